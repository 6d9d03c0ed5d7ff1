import type { ScenarioContext } from '../../../harness/scenario/context.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { CANDIDATE_SUB } from '../../../harness/scenario/environment.ts';
import type { EventEntry, FrameEntry } from '../../../harness/server/types.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

/** How long a dropped candidate has to log in again (backoff included). */
const RECONNECT_MS = 10_000;

async function nextLogin<V>(ctx: ScenarioContext<V>, seq: number): Promise<EventEntry | undefined> {
  const deadline = Date.now() + RECONNECT_MS;
  while (Date.now() < deadline) {
    const login = ctx.server.transcript
      .slice(seq)
      .find(
        (e): e is EventEntry => e.kind === 'event' && e.event === 'login' && e.address === ctx.candidate.jid,
      );
    if (login) return login;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

export default defineScenario({
  id: 'SESSION-RECONNECT-001',
  title: 'After a dropped connection the candidate logs in again with the same identity and keeps working',
  requirements: ['REQ-SESSION-006', 'REQ-SESSION-005'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: RECONNECT_MS + 10_000,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    await ctx.step('a conversation before the drop', () => ctx.fence(alice));
    const seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    ctx.server.core.cut(jid);
    const login = await ctx.step('the candidate logs in again', () => nextLogin(ctx, seq));
    if (!login) {
      ctx.must(false, 'VIO_SESSION_NO_RECONNECT', `no new login within ${RECONNECT_MS / 1000} s of the drop`);
      // The environment is shared: bring the candidate back for the scenarios after this one.
      const tokenUrl = ctx.server.tokenUrl ?? '';
      await ctx.step('the harness connects the candidate again', () =>
        ctx.candidate.driver.connect({
          httpUrl: ctx.server.httpUrl,
          wsUrl: ctx.server.wsUrl,
          partner: { sub: CANDIDATE_SUB, tokenUrl },
        }),
      );
      return;
    }
    const after = ctx.server.transcript.slice(seq);
    const enlisted = after.filter(
      (e) => e.kind === 'event' && (e.event === 'enlist' || e.event === 'enlisted'),
    );
    ctx.must(
      enlisted.length === 0,
      'VIO_SESSION_NO_RECONNECT',
      'the candidate enlisted again instead of logging in',
    );
    const frame = after.find(
      (e): e is FrameEntry =>
        e.kind === 'frame' &&
        e.direction === 'c2s' &&
        e.connection === login.connection &&
        e.stanza.startsWith('<login'),
    );
    const parsed = frame ? parseStanza(frame.stanza) : undefined;
    const attrs = parsed?.ok ? parsed.node.attrs : {};
    const enlistedKey = ctx.server.core.accounts.get(jid)?.authKey;
    ctx.must(
      attrs.jid === jid &&
        enlistedKey !== undefined &&
        attrs.authkey === Buffer.from(enlistedKey).toString('base64'),
      'VIO_SESSION_LOGIN_FAILED',
      `the new login is not as ${jid} with the enlisted key`,
      'REQ-SESSION-005',
    );
    await ctx.step('the candidate reports it is connected', () =>
      ctx.candidate.events.waitFor('connection', (e) => e.state === 'connected', { since }),
    );
    await ctx.step('it receives after the reconnect', () => ctx.fence(alice));
    const { id } = await ctx.step('it sends after the reconnect', () =>
      ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: 'back online' } }),
    );
    await ctx.step('the WhatsApp user decrypts it', () =>
      alice.events.waitFor('message', (e) => e.id === id),
    );
  },
});
