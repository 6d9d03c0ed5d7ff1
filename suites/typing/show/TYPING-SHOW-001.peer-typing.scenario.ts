import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'TYPING-SHOW-001',
  title: 'The candidate shows a contact typing and recording',
  requirements: ['REQ-TYPING-003', 'REQ-TYPING-004'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const alice = await ctx.peer();
    const since = ctx.candidate.events.cursor;
    alice.typing(ctx.candidate.jid, 'composing');
    const typing = await ctx.step('composing is shown', () =>
      ctx.candidate.events.waitFor('typing', (e) => e.from === alice.jid && e.state === 'composing', {
        since,
      }),
    );
    ctx.must(typing.media === undefined, 'VIO_MSG_CONTENT_MISMATCH', 'typing shown as recording');
    alice.typing(ctx.candidate.jid, 'composing', 'audio');
    const recording = await ctx.step('recording is shown', () =>
      ctx.candidate.events.waitFor('typing', (e) => e.from === alice.jid && e.media === 'audio', { since }),
    );
    ctx.should(
      recording.state === 'composing',
      'VIO_MSG_CONTENT_MISMATCH',
      'recording not shown',
      'REQ-TYPING-004',
    );
    alice.typing(ctx.candidate.jid, 'paused');
    await ctx.step('paused is shown', () =>
      ctx.candidate.events.waitFor('typing', (e) => e.from === alice.jid && e.state === 'paused', { since }),
    );
  },
});
