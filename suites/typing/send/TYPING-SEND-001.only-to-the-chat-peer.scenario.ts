import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'TYPING-SEND-001',
  title: "The candidate's chat states go to the peer of the chat and to no other contact",
  requirements: ['REQ-TYPING-005'],
  level: 'MUST',
  kind: 'security',
  variants: {
    composing: { media: undefined },
    recording: { media: 'audio' },
  } as const,
  async run(ctx) {
    if (!ctx.candidate.manifest.features.includes('typing-send')) {
      ctx.note('not checked', 'the candidate declares no typing-send: it sends no chat states');
      return;
    }
    const alice = await ctx.peer();
    const bob = await ctx.peer();
    await ctx.step('the candidate has another contact, both ways', async () => {
      const b = await bob.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === b.id);
      const { id } = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'text', text: 'hi bob' },
      });
      await bob.events.waitFor('message', (e) => e.id === id);
    });
    await ctx.step('and a chat with the peer it types to', async () => {
      const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'hello' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
    });
    const seq = ctx.server.transcript.seq;
    const media = ctx.variant.media;
    await ctx.step('the user types in the chat with the peer, then stops', async () => {
      await ctx.candidate.driver.typing({ to: alice.jid, state: 'composing', ...(media ? { media } : {}) });
      await ctx.candidate.driver.typing({ to: alice.jid, state: 'paused' });
    });
    // An outbound fence: the message goes after the chat states, so once the peer has it every
    // chat state is on the wire.
    await ctx.step('the user sends the message', async () => {
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'done' },
      });
      await alice.events.waitFor('message', (e) => e.id === id);
    });
    const states = candidateSent(ctx, seq, 'chatstate');
    const wrong = states.filter((f) => f.node.attrs.to !== alice.jid);
    ctx.must(
      wrong.length === 0,
      'VIO_TYPING_WRONG_RECIPIENT',
      `chat states also went to ${[...new Set(wrong.map((f) => f.node.attrs.to))].join(', ')}`,
    );
    ctx.note('chat states sent', states.length);
  },
});
