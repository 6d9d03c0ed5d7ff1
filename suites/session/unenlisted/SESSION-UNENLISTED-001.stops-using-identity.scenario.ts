import { defineScenario } from '../../../harness/scenario/define.ts';
import { reinstallCandidate } from '../../../harness/scenario/reinstall.ts';
import { pollUntil } from '../../../harness/scenario/wire.ts';
import type { EventEntry } from '../../../harness/server/types.ts';

const DAY_MS = 86_400_000;
/** Thirty days away and a little more: the server un-enlists at the next login (§5.2). */
const AWAY_MS = 31 * DAY_MS;
/**
 * How long the candidate is watched for a second login after the 403. Not a fence: a login that
 * never comes cannot be waited for. It covers a reconnect policy's first several attempts.
 */
const WATCH_MS = 3_000;

export default defineScenario({
  id: 'SESSION-UNENLISTED-001',
  title:
    'Un-enlisted after 30 days away, the candidate stops using its identity, does not retry, and says so',
  requirements: ['REQ-SESSION-009'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: 60_000,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    try {
      const seq = ctx.server.transcript.seq;
      const since = ctx.candidate.events.cursor;
      await ctx.step('31 days of server time pass and the connection drops', () => {
        ctx.server.clock.advance(AWAY_MS);
        ctx.server.core.cut(jid);
      });
      const refusedAt = await ctx.step(
        'the candidate logs in again and gets <failure reason="403"/>',
        async () => {
          let at: number | undefined;
          await pollUntil(() => {
            at = ctx.server.transcript
              .slice(seq)
              .find(
                (e): e is EventEntry =>
                  e.kind === 'event' &&
                  e.event === 'login-failed' &&
                  e.address === jid &&
                  e.detail?.reason === 403,
              )?.seq;
            return at !== undefined;
          }, 10_000);
          return at;
        },
      );
      ctx.demand(
        refusedAt !== undefined,
        'VIO_SESSION_NO_RECONNECT',
        'the candidate did not log in again within 10 s of the drop, so the 403 never came',
        'REQ-SESSION-009',
      );
      const reported = await ctx.step('the candidate reports that it must enlist again', async () => {
        try {
          await ctx.candidate.events.waitFor('connection', (e) => e.state === 'failed', {
            since,
            timeoutMs: 5_000,
          });
          return true;
        } catch {
          return false;
        }
      });
      ctx.must(
        reported,
        'VIO_SESSION_UNENLISTED_NOT_REPORTED',
        'no connection event with state "failed" after the 403',
      );
      await ctx.step(
        `the candidate is watched ${WATCH_MS / 1000} s for another login`,
        () => new Promise((r) => setTimeout(r, WATCH_MS)),
      );
      const again = ctx.server.transcript
        .slice((refusedAt ?? seq) + 1)
        .filter(
          (e) =>
            e.kind === 'event' && (e.event === 'login' || e.event === 'login-failed') && e.address === jid,
        ).length;
      ctx.must(
        again === 0,
        'VIO_SESSION_UNENLISTED_RETRY',
        `the candidate logged in ${again} more time(s) with the un-enlisted identity`,
      );
    } finally {
      // The scenarios after this one need the candidate enlisted and online again.
      await ctx.step('the candidate is reinstalled and enlists again', () => reinstallCandidate(ctx));
    }
  },
});
