import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'MSG-TEXT-002',
  title: 'The candidate sends a text that the WhatsApp user decrypts exactly',
  requirements: ['REQ-MSG-002', 'REQ-E2EE-002'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    ascii: { text: 'Hello from a third-party app' },
    unicode: { text: 'Ünïcödé ✓ 🚀' },
    long: { text: 'y'.repeat(4000) },
    markup: { text: '</enc><body>not a child</body> & &amp; "q"' },
  },
  async run(ctx) {
    const bob = await ctx.peer({ name: 'Bob' });
    const { id } = await ctx.step('the candidate sends a text', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: ctx.variant.text } }),
    );
    const got = await ctx.step('the WhatsApp user decrypts it', () =>
      bob.events.waitFor('message', (e) => e.id === id),
    );
    ctx.must(
      got.content.type === 'text' && got.content.text === ctx.variant.text,
      'VIO_MSG_CONTENT_MISMATCH',
      `decrypted ${JSON.stringify(got.content).slice(0, 200)}`,
    );
    await ctx.step('the candidate reports it sent', () =>
      ctx.candidate.events.waitFor('message-sent', (e) => e.id === id),
    );
  },
});
