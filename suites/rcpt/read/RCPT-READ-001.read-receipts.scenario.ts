import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'RCPT-READ-001',
  title: 'Read receipts name every message read, in one aggregated receipt',
  requirements: ['REQ-RCPT-003'],
  level: 'MUST',
  kind: 'conformance',
  features: ['read-receipts-send'],
  variants: { one: { count: 1 }, three: { count: 3 } } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const ids: string[] = [];
    await ctx.step(`${ctx.variant.count} messages shown`, async () => {
      for (let i = 0; i < ctx.variant.count; i++) {
        const m = await alice.send(ctx.candidate.jid, { type: 'text', text: `m${i}` });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
        ids.push(m.id);
      }
    });
    await ctx.step('the user reads them', () => ctx.candidate.driver.read({ from: alice.jid, ids }));
    const read = await ctx.step('the sender gets a read receipt', () =>
      alice.events.waitFor('receipt', (e) => e.receiptType === 'read'),
    );
    ctx.must(
      [...read.ids].sort().join() === [...ids].sort().join(),
      'VIO_RCPT_WRONG_ID',
      `receipt names ${read.ids.join(', ')} instead of ${ids.join(', ')}`,
    );
  },
});
