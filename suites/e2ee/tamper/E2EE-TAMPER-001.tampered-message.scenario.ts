import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'E2EE-TAMPER-001',
  title: 'A tampered message is refused as tampered, and the session survives it',
  requirements: ['REQ-E2EE-008', 'REQ-E2EE-012'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'mac-byte': { offset: -1 },
    'ciphertext-byte': { offset: -12 },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    await ctx.step('a conversation both ways', async () => {
      const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'hi back' },
      });
      await alice.events.waitFor('message', (e) => e.id === id);
    });
    ctx.server.core.fault(ctx.candidate.jid, { kind: 'tamper', offset: ctx.variant.offset });
    const since = ctx.candidate.events.cursor;
    const m = await ctx.step('a message whose ciphertext the network changed', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'tampered in transit' }),
    );
    const rejected = await ctx.step('the candidate refuses it', () =>
      ctx.candidate.events.waitFor('message-rejected', (e) => e.id === m.id, { since }),
    );
    ctx.must(
      rejected.reason === 'tampered',
      'VIO_E2EE_WRONG_REASON',
      `refused as ${rejected.reason}, not as tampered`,
    );
    const early = ctx.candidate.events.of('message-received', since).find((e) => e.id === m.id);
    await ctx.step('a retry receipt brings the genuine message', async () => {
      const retry = await alice.events.waitFor('receipt', (e) => e.id === m.id && e.receiptType === 'retry');
      ctx.must(
        retry.retryCount === 1,
        'VIO_E2EE_WRONG_REASON',
        `retry count ${retry.retryCount}`,
        'REQ-E2EE-012',
      );
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id, { since });
    });
    ctx.must(
      early === undefined || early.seq > rejected.seq,
      'VIO_E2EE_TAMPER_ACCEPTED',
      'the tampered copy was shown',
    );
    await ctx.step('the session still works', () => ctx.fence(alice));
  },
});
