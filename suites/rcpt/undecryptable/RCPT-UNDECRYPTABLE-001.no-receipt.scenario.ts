import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent, framesSince } from '../wire.ts';

export default defineScenario({
  id: 'RCPT-UNDECRYPTABLE-001',
  title: 'A message that does not decrypt gets a retry receipt, never a delivery or read receipt',
  requirements: ['REQ-RCPT-008'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'established-session': { established: true },
    'first-message': { established: false },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    if (ctx.variant.established) {
      await ctx.step('a conversation both ways', async () => {
        const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'hi back' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
      });
    }
    const seq = ctx.server.transcript.seq;
    // Only this message is tampered, whatever else is on its way to the candidate.
    const mid = `3EB0${ctx.variant.established ? 'E5' : 'F1'}${Date.now().toString(16).toUpperCase().padStart(16, '0')}`;
    ctx.server.core.fault(
      ctx.candidate.jid,
      { kind: 'tamper', offset: -1 },
      1,
      (n) => n.tag === 'message' && n.attrs.id === mid,
    );
    const m = await ctx.step('a message whose ciphertext the network changed', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'tampered in transit' }, { id: mid }),
    );
    // The contact answers the retry receipt with a re-send; the genuine copy is then shown and
    // receipted. Everything before that re-send concerns the copy that did not decrypt.
    await ctx.step('the retry brings the genuine message, which is shown', async () => {
      await alice.events.waitFor('receipt', (e) => e.id === m.id && e.receiptType === 'retry');
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
    });
    // The first delivery of the id is the tampered copy, the second the re-send.
    const deliveries = framesSince(ctx, seq, { direction: 's2c', address: ctx.candidate.jid, tag: 'message' })
      .filter((f) => f.node.attrs.id === m.id && f.node.attrs.from === alice.jid)
      .map((f) => f.seq);
    const genuine = deliveries[1];
    if (genuine === undefined) {
      ctx.demand(false, 'VIO_RCPT_MISSING', 'no re-send was delivered (harness setup)');
      return;
    }
    const early = candidateSent(ctx, seq, 'receipt').filter(
      (f) =>
        f.seq < genuine &&
        f.node.attrs.to === alice.jid &&
        f.node.attrs.type !== 'retry' &&
        f.node.attrs.id === m.id,
    );
    ctx.must(
      early.length === 0,
      'VIO_RCPT_UNDECRYPTABLE_RECEIPTED',
      `${early.map((f) => f.node.attrs.type ?? 'delivery').join(', ')} receipt sent for the copy that did not decrypt`,
    );
  },
});
