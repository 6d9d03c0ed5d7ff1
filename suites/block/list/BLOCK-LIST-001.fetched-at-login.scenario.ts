import { defineScenario } from '../../../harness/scenario/define.ts';
import { awaitSent } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'BLOCK-LIST-001',
  title: 'The candidate fetches its blocklist after every login',
  requirements: ['REQ-BLOCK-001'],
  level: 'MUST',
  kind: 'conformance',
  variants: { 'first-login': { reconnect: false }, 'login-after-a-drop': { reconnect: true } } as const,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    let from = 0;
    if (ctx.variant.reconnect) {
      const alice = await ctx.peer();
      from = ctx.server.transcript.seq;
      const since = ctx.candidate.events.cursor;
      await ctx.step('the network drops the connection', () => ctx.server.core.cut(jid));
      await ctx.step('the candidate logs in again', () =>
        ctx.candidate.events.waitFor('connection', (e) => e.state === 'connected', {
          since,
          timeoutMs: 10_000,
        }),
      );
      await ctx.step('a fence message is shown', () => ctx.fence(alice));
    }
    // The login this check is about: the first of the run, or the one after the drop.
    const login = ctx.server.transcript
      .slice(from)
      .find((e) => e.kind === 'event' && e.event === 'login' && e.address === jid);
    ctx.demand(
      login !== undefined,
      'VIO_BLOCK_LIST_NOT_FETCHED',
      'no login of the candidate in the transcript',
    );
    const fetch = await ctx.step('a blocklist get follows the login', () =>
      awaitSent(
        ctx,
        login?.seq ?? from,
        (f) => f.node.tag === 'iq' && f.node.attrs.xmlns === 'blocklist' && f.node.attrs.type === 'get',
      ),
    );
    // On that connection: before the candidate's next login, if another came since.
    const next = ctx.server.transcript
      .slice(login?.seq ?? from)
      .find((e) => e.kind === 'event' && e.event === 'login' && e.address === jid);
    ctx.must(
      fetch !== undefined && (next === undefined || fetch.seq < next.seq),
      'VIO_BLOCK_LIST_NOT_FETCHED',
      'no blocklist get after the login',
    );
    ctx.note('blocklist fetched at transcript seq', { login: login?.seq, fetch: fetch?.seq });
  },
});
