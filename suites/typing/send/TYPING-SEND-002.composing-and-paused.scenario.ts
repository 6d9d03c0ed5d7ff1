import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'TYPING-SEND-002',
  title: 'While its user types the candidate sends composing (recording for a voice note), then paused',
  requirements: ['REQ-TYPING-001', 'REQ-TYPING-002'],
  level: 'SHOULD',
  kind: 'conformance',
  features: ['typing-send'],
  variants: {
    typing: { media: undefined },
    recording: { media: 'audio' },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const since = alice.events.cursor;
    const media = ctx.variant.media;
    await ctx.step('the user types in the chat', () =>
      ctx.candidate.driver.typing({ to: alice.jid, state: 'composing', ...(media ? { media } : {}) }),
    );
    await ctx.step('the user stops', () => ctx.candidate.driver.typing({ to: alice.jid, state: 'paused' }));
    await ctx.step('the user sends a message (a fence)', async () => {
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'sent' },
      });
      await alice.events.waitFor('message', (e) => e.id === id, { since });
    });
    const states = alice.events
      .all()
      .slice(since)
      .filter((e) => e.type === 'chatstate' && e.from === ctx.candidate.jid);
    const composing = states.find((e) => e.type === 'chatstate' && e.state === 'composing');
    ctx.should(
      composing !== undefined,
      'VIO_TYPING_NOT_SENT',
      'no composing reached the peer',
      'REQ-TYPING-001',
    );
    if (composing?.type === 'chatstate') {
      ctx.should(
        composing.media === media,
        'VIO_TYPING_NOT_SENT',
        `composing with media ${composing.media ?? '(none)'} instead of ${media ?? '(none)'}`,
        'REQ-TYPING-001',
      );
    }
    const paused = states.findIndex((e) => e.type === 'chatstate' && e.state === 'paused');
    ctx.should(paused >= 0, 'VIO_TYPING_NOT_SENT', 'no paused reached the peer', 'REQ-TYPING-002');
    ctx.should(
      paused < 0 || composing === undefined || paused > states.indexOf(composing),
      'VIO_TYPING_NOT_SENT',
      'paused came before composing',
      'REQ-TYPING-002',
    );
  },
});
