import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse } from '../../e2ee/wire.ts';

interface V {
  readonly how: 'duplicate' | 'after-reconnect';
  readonly established: boolean;
}

export default defineScenario<V>({
  id: 'E2EE-REPLAY-002',
  title: 'A message delivered twice, or replayed after the candidate reconnects, is shown once',
  requirements: ['REQ-E2EE-006', 'REQ-E2EE-007'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'duplicate-established': { how: 'duplicate', established: true },
    'duplicate-first-message': { how: 'duplicate', established: false },
    'after-reconnect-established': { how: 'after-reconnect', established: true },
    'after-reconnect-first-message': { how: 'after-reconnect', established: false },
  },
  async run(ctx) {
    const v = ctx.variant;
    const requirement = v.established ? 'REQ-E2EE-006' : 'REQ-E2EE-007';
    const alice = await ctx.peer();
    if (v.established) await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    if (v.how === 'duplicate') ctx.server.core.fault(ctx.candidate.jid, { kind: 'duplicate' });
    const m = await ctx.step('the message', async () => {
      const sent = await alice.send(ctx.candidate.jid, { type: 'text', text: 'say it once' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id, { since });
      return sent;
    });
    if (v.how === 'after-reconnect') {
      const cut = ctx.candidate.events.cursor;
      await ctx.step('the connection drops and the candidate reconnects', async () => {
        ctx.server.core.cut(ctx.candidate.jid);
        await ctx.candidate.events.waitFor('connection', (e) => e.state === 'connected', {
          since: cut,
          timeoutMs: 10_000,
        });
        for (let i = 0; i < 200 && !ctx.server.core.isOnline(ctx.candidate.jid); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
      });
      await ctx.step('the server replays the message', () => {
        const replayed = ctx.server.core.replay(
          ctx.candidate.jid,
          (n) => n.tag === 'message' && n.attrs.id === m.id,
        );
        ctx.demand(
          replayed !== undefined,
          'VIO_MSG_NOT_SHOWN',
          'nothing to replay (harness setup)',
          requirement,
        );
      });
    }
    await ctx.step('a fence', () => ctx.fence(alice));
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.id === m.id);
    ctx.must(
      shown.length === 1,
      'VIO_E2EE_REPLAY_ACCEPTED',
      `the message was shown ${shown.length} times`,
      requirement,
    );
  },
});
