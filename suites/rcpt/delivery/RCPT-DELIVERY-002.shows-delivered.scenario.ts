import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'RCPT-DELIVERY-002',
  title: "A contact's delivery receipt shows the candidate's message as delivered",
  requirements: ['REQ-RCPT-002'],
  level: 'MUST',
  kind: 'conformance',
  variants: { 'one-message': { count: 1 }, 'two-messages': { count: 2 } } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const since = ctx.candidate.events.cursor;
    const ids: string[] = [];
    for (let i = 0; i < ctx.variant.count; i++) {
      const { id } = await ctx.step(`the candidate sends message ${i + 1}`, () =>
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: `deliver me ${i}` } }),
      );
      ids.push(id);
      await ctx.step('the WhatsApp user receives it and sends a delivery receipt', () =>
        bob.events.waitFor('message', (e) => e.id === id),
      );
    }
    // The receipts went before the fence message: once the fence is shown, they were handled.
    await ctx.step('a fence message from the same contact', () => ctx.fence(bob));
    const shown = ctx.candidate.events
      .of('receipt-received', since)
      .filter((e) => e.from === bob.jid && e.receipt === 'delivery');
    for (const id of ids) {
      ctx.must(
        shown.some((e) => e.ids.includes(id)),
        'VIO_RCPT_MISSING',
        `the delivery receipt for ${id} was not shown`,
      );
    }
    const stray = shown.flatMap((e) => e.ids).filter((id) => !ids.includes(id));
    ctx.must(stray.length === 0, 'VIO_RCPT_WRONG_ID', `delivery shown for ${stray.join(', ')}`);
  },
});
