import { defineScenario } from '../../../harness/scenario/define.ts';
import type { DeliveryFault } from '../../../harness/server/faults.ts';
import { converse, sentAcks, untilWire } from '../../e2ee/wire.ts';

interface V {
  readonly established: boolean;
  readonly fault: DeliveryFault;
  /** Messages sent after the held one. */
  readonly after: number;
}

export default defineScenario<V>({
  id: 'E2EE-ORDER-001',
  title: 'Messages the network delivers out of order are all decrypted and shown once each',
  requirements: ['REQ-E2EE-004'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'reorder-established': { established: true, fault: { kind: 'reorder' }, after: 2 },
    'delay-established': { established: true, fault: { kind: 'delay', ms: 150 }, after: 5 },
    'reorder-first-messages': { established: false, fault: { kind: 'reorder' }, after: 2 },
  },
  async run(ctx) {
    const v = ctx.variant;
    const alice = await ctx.peer();
    if (v.established) await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    ctx.server.core.fault(ctx.candidate.jid, v.fault);
    const ids = await ctx.step(`the network holds the first of ${v.after + 1} messages back`, async () => {
      const out: string[] = [];
      for (let i = 0; i <= v.after; i++) {
        out.push((await alice.send(ctx.candidate.jid, { type: 'text', text: `in order ${i}` })).id);
      }
      return out;
    });
    const late = ids[0] ?? '';
    // Decided on the wire: the candidate answered the late message, then a fence drains the rest.
    await ctx.step('the candidate answers the late message', () =>
      untilWire(() => sentAcks(ctx, late, seq).length > 0, 3000),
    );
    await ctx.step('a fence', () => ctx.fence(alice));
    const shown = ctx.candidate.events.of('message-received', since);
    for (const [i, id] of ids.entries()) {
      const n = shown.filter((e) => e.id === id).length;
      ctx.must(
        n === 1,
        'VIO_E2EE_OUT_OF_ORDER_DROPPED',
        `message ${i}${id === late ? ' (delivered late)' : ''} was shown ${n} times`,
      );
    }
    const refused = ctx.candidate.events
      .of('message-rejected', since)
      .filter((e) => ids.includes(e.id ?? ''));
    ctx.must(
      refused.length === 0,
      'VIO_E2EE_OUT_OF_ORDER_DROPPED',
      `refused: ${refused.map((e) => `${e.id} as ${e.reason}`).join(', ')}`,
    );
    const text = shown.find((e) => e.id === late)?.content.text;
    ctx.must(
      text === undefined || text === 'in order 0',
      'VIO_MSG_CONTENT_MISMATCH',
      `the late message was shown as ${text}`,
    );
  },
});
