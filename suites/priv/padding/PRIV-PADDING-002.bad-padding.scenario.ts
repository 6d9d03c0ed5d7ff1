import { encodeContent } from '../../../harness/crypto/content.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentAcks, shownOrRejected, untilWire } from '../../e2ee/wire.ts';

interface V {
  /** What follows the protobuf, or the whole payload when `alone`. */
  readonly tail: readonly number[];
  readonly alone?: boolean;
}

export default defineScenario<V>({
  id: 'PRIV-PADDING-002',
  title: 'A payload whose padding is invalid is nacked 491 and nothing of it is shown',
  requirements: ['REQ-PRIV-003'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'no-padding': { tail: [] },
    'zero-length': { tail: [0] },
    'too-long': { tail: Array(17).fill(17) },
    inconsistent: { tail: [4, 4, 9, 4] },
    'padding-only': { tail: [3, 3, 3], alone: true },
  },
  async run(ctx) {
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const body = ctx.variant.alone ? [] : [...encodeContent({ type: 'text', text: 'padded wrongly' })];
    const payload = Uint8Array.from([...body, ...ctx.variant.tail]);
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    const id = await ctx.step('a payload with invalid padding', () =>
      alice.sendPlaintextBytes(ctx.candidate.jid, payload),
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, id, since));
    ctx.must(!outcome.shown, 'VIO_PRIV_BAD_PADDING_ACCEPTED', 'a payload with invalid padding was shown');
    if (!outcome.shown) {
      ctx.must(
        outcome.event.reason === 'bad-padding',
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as bad-padding`,
      );
    }
    await ctx.step('the candidate acks it', () => untilWire(() => sentAcks(ctx, id, seq).length > 0));
    const acks = sentAcks(ctx, id, seq);
    ctx.must(
      acks.some((a) => a.node.attrs.error === '491'),
      'VIO_E2EE_WRONG_REASON',
      `acked ${acks.map((a) => a.node.attrs.error ?? 'plainly').join(', ') || 'not at all'}, not nacked 491`,
    );
    await ctx.step('the session still works', () => ctx.fence(alice));
  },
});
