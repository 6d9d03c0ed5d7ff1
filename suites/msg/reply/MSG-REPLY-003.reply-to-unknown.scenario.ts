import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'MSG-REPLY-003',
  title: 'A reply quoting a message the candidate never saw is still shown, with the quoted id',
  requirements: ['REQ-MSG-020'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'with-quoted-copy': { copy: true },
    'without-quoted-copy': { copy: false },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const unknownId = '3EB0DEADBEEF0000000042';
    const text = 'about that message you never got';
    const reply = await ctx.step('the user replies to a message the candidate never received', () =>
      alice.send(ctx.candidate.jid, {
        type: 'reply',
        text,
        quotedId: unknownId,
        quotedParticipant: alice.jid,
        ...(ctx.variant.copy ? { quotedText: 'a message lost long ago' } : {}),
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
      shown.content.quotedId === unknownId,
      'VIO_MSG_CONTENT_MISMATCH',
      `quotes ${shown.content.quotedId ?? '(nothing)'} instead of ${unknownId}`,
    );
  },
});
