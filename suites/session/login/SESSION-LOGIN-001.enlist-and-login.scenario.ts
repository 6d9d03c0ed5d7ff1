import { defineScenario } from '../../../harness/scenario/define.ts';
import { CANDIDATE_SUB } from '../../../harness/scenario/environment.ts';
import type { EventEntry, FrameEntry } from '../../../harness/server/types.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

export default defineScenario({
  id: 'SESSION-LOGIN-001',
  title: 'The candidate enlists once with its partner token and logs in with the enlisted address and key',
  requirements: ['REQ-SESSION-001', 'REQ-SESSION-002', 'REQ-SESSION-004', 'REQ-SESSION-005'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    // Enlistment and the first login happened at connect, before any scenario. What follows the
    // harness's first fault knob (a refused enlistment, an un-enlisting clock jump) is other
    // scenarios' doing, so the check reads the transcript up to there.
    const entries = ctx.server.transcript.entries();
    const knob = entries.findIndex((e) => e.kind === 'event' && e.event === 'fault-fired');
    const all = knob < 0 ? entries : entries.slice(0, knob);
    const enlists = all.filter((e): e is EventEntry => e.kind === 'event' && e.event === 'enlist');
    const failed = enlists.filter((e) => e.detail?.status !== 'ok');
    ctx.must(
      failed.length === 0,
      'VIO_SESSION_LOGIN_FAILED',
      `enlistment refused: ${JSON.stringify(failed[0]?.violations ?? [])}`,
      'REQ-SESSION-001',
    );
    const ok = enlists.find((e) => e.detail?.status === 'ok' && e.address === jid);
    ctx.demand(
      ok !== undefined,
      'VIO_SESSION_LOGIN_FAILED',
      `no accepted enlistment for ${jid}`,
      'REQ-SESSION-001',
    );
    ctx.must(
      ok?.detail?.sub === CANDIDATE_SUB,
      'VIO_SESSION_LOGIN_FAILED',
      `enlisted with a token for sub ${String(ok?.detail?.sub)}, not ${CANDIDATE_SUB}`,
      'REQ-SESSION-004',
    );
    // The server accepts an enlistment only when the signed prekey verifies under the identity.
    ctx.must(
      ctx.server.core.accounts.get(jid) !== undefined,
      'VIO_SESSION_LOGIN_FAILED',
      'no account for the enlisted address',
      'REQ-SESSION-002',
    );
    const logins = all.filter(
      (e): e is EventEntry => e.kind === 'event' && e.event === 'login' && e.address === jid,
    );
    const loginFailures = all.filter(
      (e): e is EventEntry => e.kind === 'event' && e.event === 'login-failed' && e.address === jid,
    );
    ctx.must(
      loginFailures.length === 0,
      'VIO_SESSION_LOGIN_FAILED',
      `${loginFailures.length} refused logins: ${JSON.stringify(loginFailures[0]?.violations ?? [])}`,
      'REQ-SESSION-005',
    );
    const first = logins[0];
    ctx.demand(
      first !== undefined,
      'VIO_SESSION_LOGIN_FAILED',
      'no login in the transcript',
      'REQ-SESSION-005',
    );
    const frame = all.find(
      (e): e is FrameEntry =>
        e.kind === 'frame' &&
        e.direction === 'c2s' &&
        e.connection === first?.connection &&
        e.stanza.startsWith('<login'),
    );
    const login = frame ? parseStanza(frame.stanza) : undefined;
    ctx.demand(
      login?.ok === true,
      'VIO_SESSION_LOGIN_FAILED',
      'no readable <login> frame on the login connection',
    );
    const attrs = login?.ok ? login.node.attrs : {};
    ctx.must(
      attrs.jid === jid,
      'VIO_SESSION_LOGIN_FAILED',
      `login as ${attrs.jid}, enlisted as ${jid}`,
      'REQ-SESSION-005',
    );
    // The account holds the latest enlistment (a scenario may have reinstalled the candidate),
    // so the key is checked on the latest accepted login.
    const latest = entries.findLast(
      (e): e is EventEntry => e.kind === 'event' && e.event === 'login' && e.address === jid,
    );
    const latestFrame = entries.find(
      (e): e is FrameEntry =>
        e.kind === 'frame' &&
        e.direction === 'c2s' &&
        e.connection === latest?.connection &&
        e.stanza.startsWith('<login'),
    );
    const latestLogin = latestFrame ? parseStanza(latestFrame.stanza) : undefined;
    const latestKey = latestLogin?.ok ? latestLogin.node.attrs.authkey : undefined;
    const enlistedKey = ctx.server.core.accounts.get(jid)?.authKey;
    ctx.must(
      enlistedKey !== undefined && latestKey === Buffer.from(enlistedKey).toString('base64'),
      'VIO_SESSION_LOGIN_FAILED',
      'the login authkey is not the enlisted static key',
      'REQ-SESSION-005',
    );
    ctx.must(
      (attrs.token ?? '').length > 0,
      'VIO_SESSION_LOGIN_FAILED',
      'the login carries no partner token',
      'REQ-SESSION-005',
    );
    // Acting as logged in only after <success>: nothing but the login crossed before it.
    const success = all.find(
      (e) =>
        e.kind === 'frame' &&
        e.direction === 's2c' &&
        e.connection === first?.connection &&
        e.stanza.startsWith('<success'),
    );
    const early = all.filter(
      (e) =>
        e.kind === 'frame' &&
        e.direction === 'c2s' &&
        e.connection === first?.connection &&
        !e.stanza.startsWith('<login') &&
        (success === undefined || e.seq < success.seq),
    );
    ctx.must(
      early.length === 0,
      'VIO_SESSION_NOT_LOGGED_IN',
      `${early.length} stanzas sent before <success>`,
      'REQ-SESSION-005',
    );
  },
});
