import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'E2EE-REPLAY-001',
  title: 'A message replayed by the network is not shown again',
  requirements: ['REQ-E2EE-006', 'REQ-E2EE-007'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'first-message': { established: false, requirement: 'REQ-E2EE-007' },
    'established-session': { established: true, requirement: 'REQ-E2EE-006' },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    if (ctx.variant.established) {
      await ctx.step('a conversation both ways', async () => {
        const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'hi back' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
      });
    }
    const m = await ctx.step('the message to replay', async () => {
      const sent = await alice.send(ctx.candidate.jid, { type: 'text', text: 'say it once' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id);
      return sent;
    });
    const since = ctx.candidate.events.cursor;
    await ctx.step('the server replays it, then a fence', async () => {
      const replayed = ctx.server.core.replay(
        ctx.candidate.jid,
        (n) => n.tag === 'message' && n.attrs.id === m.id,
      );
      ctx.demand(replayed !== undefined, 'VIO_MSG_NOT_SHOWN', 'nothing to replay (harness setup)');
      await ctx.fence(alice);
    });
    const again = ctx.candidate.events.of('message-received', since).filter((e) => e.id === m.id);
    ctx.must(
      again.length === 0,
      'VIO_E2EE_REPLAY_ACCEPTED',
      'the replayed message was shown again',
      ctx.variant.requirement,
    );
  },
});
