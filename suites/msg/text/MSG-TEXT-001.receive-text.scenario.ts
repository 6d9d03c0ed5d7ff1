import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'MSG-TEXT-001',
  title: 'A text from a WhatsApp user is shown exactly, and receipted',
  requirements: ['REQ-MSG-001', 'REQ-E2EE-001', 'REQ-RCPT-001'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    ascii: { text: 'Hello from WhatsApp' },
    unicode: { text: 'Grüße 👋🏽 مرحبا こんにちは' },
    long: { text: 'x'.repeat(4000) },
    // Characters that are markup in the stanza around it: they must survive as text.
    markup: { text: '<message to="x"/> & "quotes" \'apos\' ]]>' },
    multiline: { text: 'line one\nline two\r\n\tindented\n\n' },
  },
  async run(ctx) {
    const alice = await ctx.peer({ name: 'Alice' });
    const sent = await ctx.step('a WhatsApp user sends a first message', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: ctx.variant.text }),
    );
    const shown = await ctx.step('the candidate shows it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id),
    );
    ctx.must(shown.from === alice.jid, 'VIO_MSG_CONTENT_MISMATCH', `shown as from ${shown.from}`);
    ctx.must(
      shown.content.type === 'text' && shown.content.text === ctx.variant.text,
      'VIO_MSG_CONTENT_MISMATCH',
      `shown as ${JSON.stringify(shown.content).slice(0, 200)}`,
    );
    await ctx.step('the sender gets a delivery receipt', async () => {
      const r = await alice.events.waitFor(
        'receipt',
        (e) => e.id === sent.id && e.receiptType === 'delivery',
      );
      ctx.must(
        r.from === ctx.candidate.jid,
        'VIO_RCPT_MISSING',
        'delivery receipt from someone else',
        'REQ-RCPT-001',
      );
    });
  },
});
