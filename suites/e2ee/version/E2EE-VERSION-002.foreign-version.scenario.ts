import { withVersionByte } from '../../../harness/crypto/inspect-mutate.ts';
import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentAcks, shownOrRejected, untilWire } from '../../e2ee/wire.ts';

interface V {
  /** The version byte, or how to derive it from the profile's. */
  readonly byte: number | 'other-profile';
}

export default defineScenario<V>({
  id: 'E2EE-VERSION-002',
  title: 'A ciphertext with a legacy, foreign or future version byte is refused as such and shows nothing',
  requirements: ['REQ-E2EE-027', 'REQ-E2EE-028'],
  level: 'MUST',
  kind: 'security',
  variants: {
    legacy: { byte: 0x22 },
    future: { byte: 0x55 },
    'other-profile': { byte: 'other-profile' },
  },
  async run(ctx) {
    const own = ctx.profile === 'signal-pqxdh' ? 0x44 : 0x33;
    const byte = ctx.variant.byte === 'other-profile' ? (own === 0x44 ? 0x33 : 0x44) : ctx.variant.byte;
    // A version 3 message to a PQXDH candidate is the downgrade of REQ-E2EE-027.
    const requirement = own === 0x44 && byte === 0x33 ? 'REQ-E2EE-027' : 'REQ-E2EE-028';
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    const id = await ctx.step(`a msg whose version byte is 0x${byte.toString(16)}`, async () => {
      const text = `version 0x${byte.toString(16)}`;
      const ct = await alice.identity.encrypt(ctx.candidate.jid, encodePlaintext({ type: 'text', text }));
      return alice.sendRaw(ctx.candidate.jid, withVersionByte(ct, byte));
    });
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, id, since));
    ctx.must(!outcome.shown, 'VIO_E2EE_DOWNGRADE', 'a message of a foreign version was shown', requirement);
    if (!outcome.shown) {
      ctx.must(
        outcome.event.reason === 'unsupported-version',
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as unsupported-version`,
        requirement,
      );
    }
    if (requirement === 'REQ-E2EE-027') {
      await ctx.step('the candidate acks it', () => untilWire(() => sentAcks(ctx, id, seq).length > 0));
      const acks = sentAcks(ctx, id, seq);
      ctx.must(
        acks.some((a) => a.node.attrs.error === '490'),
        'VIO_E2EE_WRONG_REASON',
        `acked ${acks.map((a) => a.node.attrs.error ?? 'plainly').join(', ') || 'not at all'}, not nacked 490`,
        requirement,
      );
    }
    await ctx.step('the session still works', () => ctx.fence(alice));
  },
});
