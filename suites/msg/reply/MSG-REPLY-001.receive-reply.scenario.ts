import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'MSG-REPLY-001',
  title: 'A reply from a WhatsApp user is shown with its text and the exact id of the message it quotes',
  requirements: ['REQ-MSG-003'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'quotes-own-message': { quotesCandidate: false },
    'quotes-candidate-message': { quotesCandidate: true },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const jid = ctx.candidate.jid;
    const quoted = await ctx.step('the message to quote', async () => {
      if (ctx.variant.quotesCandidate) {
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'quote me' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
        return { id, author: jid, text: 'quote me' };
      }
      const m = await alice.send(jid, { type: 'text', text: 'my own words' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return { id: m.id, author: alice.jid, text: 'my own words' };
    });
    const text = 'Replying ↩️ to that';
    const reply = await ctx.step('the user replies to it', () =>
      alice.send(jid, {
        type: 'reply',
        text,
        quotedId: quoted.id,
        quotedParticipant: quoted.author,
        quotedText: quoted.text,
      }),
    );
    const shown = await ctx.step('the candidate shows the reply', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === reply.id),
    );
    ctx.must(shown.content.type === 'reply', 'VIO_MSG_CONTENT_MISMATCH', `shown as ${shown.content.type}`);
    ctx.must(
      shown.content.text === text,
      'VIO_MSG_CONTENT_MISMATCH',
      `text shown as ${JSON.stringify(shown.content.text)}`,
    );
    ctx.must(
      shown.content.quotedId === quoted.id,
      'VIO_MSG_CONTENT_MISMATCH',
      `quotes ${shown.content.quotedId ?? '(nothing)'} instead of ${quoted.id}`,
    );
  },
});
