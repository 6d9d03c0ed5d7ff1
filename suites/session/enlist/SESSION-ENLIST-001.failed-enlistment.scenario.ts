import { DriverError } from '../../../harness/driver/errors.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { connectCandidate, reinstallCandidate, resetCandidate } from '../../../harness/scenario/reinstall.ts';
import { framesSince } from '../../../harness/scenario/wire.ts';
import type { EventEntry } from '../../../harness/server/types.ts';

// PROFILE.md §5.1: the enlistment reply is HTTP 200 either way; only `"status":"ok"` enlists.
// The candidate starts as a clean install (so it must enlist), the server refuses the
// enlistment, and the candidate must report the failure and not log in.
export default defineScenario({
  id: 'SESSION-ENLIST-001',
  title: 'An enlistment answered HTTP 200 with "status":"fail" is reported as failed, and no login follows',
  requirements: ['REQ-SESSION-003'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: 60_000,
  variants: {
    'bad-token': { reason: 'bad_token' },
    'rate-limited': { reason: 'rate_limited' },
  } as const,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    try {
      await ctx.step('the candidate is reset to a clean install', () => resetCandidate(ctx));
      const seq = ctx.server.transcript.seq;
      const since = ctx.candidate.events.cursor;
      ctx.server.core.refuseEnlistments(ctx.variant.reason);
      const answer = await ctx.step(
        'the candidate connects; its enlistment gets "status":"fail"',
        async () => {
          try {
            await connectCandidate(ctx);
            return { connected: true as const };
          } catch (e) {
            // A broken driver is the harness's problem, not the candidate's answer.
            if (!(e instanceof DriverError) || e.code !== 'HRN_ERR_DRIVER_ERROR') throw e;
            return { connected: false as const, error: e.candidateError };
          }
        },
      );
      ctx.note('connect answer', answer);
      const refused = ctx.server.transcript
        .slice(seq)
        .some(
          (e): e is EventEntry => e.kind === 'event' && e.event === 'enlist' && e.detail?.status === 'fail',
        );
      ctx.demand(refused, 'VIO_SESSION_ENLIST_FAILURE_IGNORED', 'the candidate never posted its enlistment');
      ctx.must(
        !answer.connected,
        'VIO_SESSION_ENLIST_FAILURE_IGNORED',
        'connect reported success although the enlistment failed',
      );
      const failed = ctx.candidate.events.of('connection', since).some((e) => e.state === 'failed');
      ctx.must(
        failed,
        'VIO_SESSION_ENLIST_FAILURE_IGNORED',
        'no connection event with state "failed" after the refused enlistment',
      );
      // Nothing the candidate could do after a refused enlistment needs a login: the connect call
      // has answered, so any login it made for it is already in the transcript.
      const logins = framesSince(ctx, seq, { direction: 'c2s', tag: 'login' }).filter(
        (f) => f.node.attrs.jid === jid,
      ).length;
      const attempts = ctx.server.transcript
        .slice(seq)
        .filter((e) => e.kind === 'event' && (e.event === 'login' || e.event === 'login-failed')).length;
      ctx.must(
        logins === 0 && attempts === 0,
        'VIO_SESSION_ENLIST_FAILURE_IGNORED',
        `the candidate logged in (${Math.max(logins, attempts)} attempt(s)) after its enlistment failed`,
      );
    } finally {
      // The scenarios after this one need the candidate enlisted and online again.
      await ctx.step('the candidate is reinstalled and enlists for real', () => reinstallCandidate(ctx));
    }
  },
});
