import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'RCPT-READ-002',
  title: "A contact's read receipt marks read its message and every message of its list",
  requirements: ['REQ-RCPT-004'],
  level: 'MUST',
  kind: 'conformance',
  variants: { one: { count: 1 }, list: { count: 3 } } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const ids: string[] = [];
    await ctx.step(`the candidate sends ${ctx.variant.count} messages`, async () => {
      for (let i = 0; i < ctx.variant.count; i++) {
        const { id } = await ctx.candidate.driver.send({
          to: bob.jid,
          content: { type: 'text', text: `read me ${i}` },
        });
        await bob.events.waitFor('message', (e) => e.id === id);
        ids.push(id);
      }
    });
    const since = ctx.candidate.events.cursor;
    await ctx.step('the WhatsApp user reads them: one receipt, the oldest first, the others listed', () =>
      bob.markRead(ctx.candidate.jid, ids),
    );
    await ctx.step('a fence message from the same contact', () => ctx.fence(bob));
    const read = ctx.candidate.events
      .of('receipt-received', since)
      .filter((e) => e.from === bob.jid && e.receipt === 'read')
      .flatMap((e) => e.ids);
    const missing = ids.filter((id) => !read.includes(id));
    ctx.must(
      missing.length === 0,
      missing.length === ids.length ? 'VIO_RCPT_MISSING' : 'VIO_RCPT_WRONG_ID',
      `not shown as read: ${missing.join(', ')}`,
    );
    const stray = read.filter((id) => !ids.includes(id));
    ctx.must(stray.length === 0, 'VIO_RCPT_WRONG_ID', `shown as read: ${stray.join(', ')}`);
  },
});
