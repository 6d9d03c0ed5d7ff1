import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'MSG-REPLY-002',
  title: "The candidate's reply names the quoted message's id and author and carries a copy of it",
  requirements: ['REQ-MSG-004'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'quotes-contact-message': { quotesOwn: false },
    'quotes-own-message': { quotesOwn: true },
  } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const jid = ctx.candidate.jid;
    const quoted = await ctx.step('the message to quote', async () => {
      if (ctx.variant.quotesOwn) {
        const { id } = await ctx.candidate.driver.send({
          to: bob.jid,
          content: { type: 'text', text: 'I said this' },
        });
        await bob.events.waitFor('message', (e) => e.id === id);
        return { id, author: jid, text: 'I said this' };
      }
      const m = await bob.send(jid, { type: 'text', text: 'Bob said this' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return { id: m.id, author: bob.jid, text: 'Bob said this' };
    });
    const seq = ctx.server.transcript.seq;
    const text = 'Quoting you: «exactly» ✓';
    const { id } = await ctx.step('the user replies to it', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'reply', text, quotedId: quoted.id } }),
    );
    const got = await ctx.step('the WhatsApp user decrypts it', () =>
      bob.events.waitFor('message', (e) => e.id === id),
    );
    const c = got.content;
    if (c.type !== 'reply') {
      ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', `decrypted as ${c.type}, not a reply`);
      return;
    }
    ctx.must(c.text === text, 'VIO_MSG_CONTENT_MISMATCH', `text ${JSON.stringify(c.text)}`);
    ctx.must(
      c.quotedId === quoted.id,
      'VIO_MSG_CONTENT_MISMATCH',
      `quotes ${c.quotedId} instead of ${quoted.id}`,
    );
    ctx.must(
      c.quotedParticipant === quoted.author,
      'VIO_MSG_CONTENT_MISMATCH',
      `names ${c.quotedParticipant ?? '(no one)'} as the author instead of ${quoted.author}`,
    );
    ctx.must(
      c.quotedText === quoted.text,
      'VIO_MSG_CONTENT_MISMATCH',
      `carries ${JSON.stringify(c.quotedText)} as the quoted message instead of ${JSON.stringify(quoted.text)}`,
    );
    const frame = candidateSent(ctx, seq, 'message').find((f) => f.node.attrs.id === id);
    ctx.must(
      frame?.node.attrs.type === 'text',
      'VIO_MSG_MEDIATYPE_MISMATCH',
      `a reply sent with stanza type ${frame?.node.attrs.type ?? '(none)'}`,
    );
  },
});
