// The hostile app campaign (docs/HOSTILE.md): generated sessions of an app that attacks the
// simulated server over a real WebSocket on 127.0.0.1, written straight on TCP so it can send
// what no WebSocket library would: 16 MiB frames, floods of pings, messages in thousands of
// fragments, frames that break RFC 6455, hostile stanzas from the server campaign's generator
// (entity bombs, deep nesting, invalid UTF-8, binary frames), and then vanish (a reset, mid-frame
// or not). Each session must end in coded violations or a coded close, recorded within a bound,
// with the connection released; the server never records an internal error, and a well-behaved
// pair on other connections keeps talking.
//
// HOSTILE_CANDIDATE_CASES sets the size of the whole campaign (this half runs 40% of it),
// HOSTILE_CANDIDATE_SEED its seed, HOSTILE_CANDIDATE_REPLAY=socket:<seed>:<case> one session.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPlan, replayCommand } from '../../fixtures/candidates/hostile/campaign.ts';
import { HostileSocket } from '../../fixtures/candidates/hostile/socket-client.ts';
import type { Session } from '../../fixtures/candidates/hostile/socket-sessions.ts';
import {
  describeSession,
  end,
  framesFor,
  perform,
  session,
  transportClose,
} from '../../fixtures/candidates/hostile/socket-sessions.ts';
import { getProfile } from '../crypto/profiles.ts';
import { httpMediaStore } from '../peers/http-media.ts';
import type { Credentials } from '../peers/interop-client.ts';
import { enlist, enlistForm, logIn, newAuthKey } from '../peers/interop-client.ts';
import { Peer } from '../peers/peer.ts';
import type { RawLink } from '../peers/ws-link.ts';
import { connectWsLink } from '../peers/ws-link.ts';
import { el } from '../xml/node.ts';
import { serializeStanza } from '../xml/serialize.ts';
import type { RunningServer } from './server.ts';
import { startServer } from './server.ts';
import { TRANSPORT_CAP_BYTES } from './testing/hostile-frames.ts';
import type { EventEntry, TranscriptEntry } from './types.ts';

const PLAN = campaignPlan('socket');
/** Hostile apps connected at once, each from its own loopback address. */
const WORKERS = 8;
/** How long the server may take to get through an action, or to record a close, before it is a hang. */
const HANG_MS = 10_000;
/** Logins per address are limited to 10 per 60 s of server time (PROFILE.md §9.1). */
const LOGIN_SPACING_MS = 6_100;
/** Close codes a session may end with: the server's for a client's fault (PROFILE.md §2.4), the
 *  WebSocket layer's (1002 a protocol error, 1008 too many fragments, 1009 over the cap), and
 *  the app's own (1000, 1001, 3000-4999 sent; 1005 a close frame without a code; 1006 none). */
const ALLOWED_CLOSES = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 3000, 4000, 4999]);
/** Closes the server makes for what a client did (PROFILE.md §2.4); a coded answer to a frame. */
const DOCUMENTED_CLOSES = new Set([1003, 1007, 1008, 1009]);

const ALICE = '491701230001@s.whatsapp.net';
const GOOD_SUB = '70000000101';
const BOB = `1-${GOOD_SUB}@interop`;
const x3dh = getProfile('signal-x3dh');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let server: RunningServer | undefined;
const links: RawLink[] = [];
const peers: Peer[] = [];
const sockets: HostileSocket[] = [];
afterEach(async () => {
  for (const h of sockets.splice(0)) h.vanish();
  for (const p of peers.splice(0)) p.close();
  for (const l of links.splice(0)) l.terminate();
  await server?.stop();
  server = undefined;
});

// ---- the transcript, by connection ----------------------------------------------------------------

interface ConnLog {
  remote?: string;
  readonly entries: TranscriptEntry[];
  /** Positions in `entries` of the client's frames. */
  readonly frames: number[];
  close?: { readonly code: number; readonly at: number };
}

/** Reads the transcript incrementally: entries by connection, connections by remote address. */
class Watch {
  readonly conns = new Map<string, ConnLog>();
  readonly #opened = new Map<string, string[]>();
  #cursor = 0;
  readonly #s: RunningServer;

  constructor(s: RunningServer) {
    this.#s = s;
  }

  poll(): void {
    const all = this.#s.transcript.entries();
    for (; this.#cursor < all.length; this.#cursor++) {
      const e = all[this.#cursor];
      if (!e?.connection) continue;
      const log = this.log(e.connection);
      log.entries.push(e);
      if (e.kind === 'frame' && e.direction === 'c2s') log.frames.push(log.entries.length - 1);
      if (e.kind === 'event' && e.event === 'open') {
        const remote = String(e.detail?.remote ?? '');
        log.remote = remote;
        this.#opened.set(remote, [...(this.#opened.get(remote) ?? []), e.connection]);
      }
      if (e.kind === 'event' && e.event === 'close')
        log.close = { code: Number(e.detail?.code), at: performance.now() };
    }
  }

  log(id: string): ConnLog {
    let log = this.conns.get(id);
    if (!log) {
      log = { entries: [], frames: [] };
      this.conns.set(id, log);
    }
    return log;
  }

  /** The next connection opened from `remote`, in order. */
  takeOpened(remote: string): string | undefined {
    this.poll();
    return this.#opened.get(remote)?.shift();
  }

  async until(done: () => boolean, what: string, ms = HANG_MS): Promise<void> {
    const start = performance.now();
    for (;;) {
      this.poll();
      if (done()) return;
      if (performance.now() - start > ms) throw new Error(`HANG: ${what} after ${ms} ms`);
      await sleep(2);
    }
  }
}

/** The VIO code or documented close that answers client frame `n`, or why there is none. */
function answerTo(log: ConnLog, n: number): { ok: true; outcome: string } | { ok: false; why: string } {
  const start = log.frames[n] as number;
  const window = log.entries.slice(start, log.frames[n + 1] ?? log.entries.length);
  const code = window
    .filter((e) => e.kind === 'event' || (e.kind === 'frame' && e.direction === 'c2s'))
    .flatMap((e) => e.violations ?? [])
    .find((v) => v.code.startsWith('VIO_'))?.code;
  if (code) return { ok: true, outcome: code };
  const close = window.find((e): e is EventEntry => e.kind === 'event' && e.event === 'close');
  if (close && DOCUMENTED_CLOSES.has(Number(close.detail?.code)))
    return { ok: true, outcome: `close ${String(close.detail?.code)}` };
  return { ok: false, why: `frame ${n} has neither a coded violation nor a documented close` };
}

// ---- users ----------------------------------------------------------------------------------------

async function enlistUser(s: RunningServer, sub: string) {
  const identity = await x3dh.createIdentity({ preKeyCount: 5 });
  const authKey = newAuthKey();
  const reply = await enlist(s.httpUrl, enlistForm(identity, authKey, await s.partner.issueToken(sub)));
  expect(reply).toEqual({ status: 'ok', login: `1-${sub}@interop` });
  const jid = `1-${sub}@interop`;
  return {
    identity,
    jid,
    credentials: async (): Promise<Credentials> => ({ jid, authKey, token: await s.partner.issueToken(sub) }),
  };
}

/** Alice (a WhatsApp user in-process) and Bob (an interop user on his own WebSocket). */
async function wellBehavedPair(s: RunningServer) {
  const alice = await s.attachPeer({ jid: ALICE, profile: x3dh, name: 'Alice' });
  const user = await enlistUser(s, GOOD_SUB);
  const link = await connectWsLink(s.wsUrl);
  links.push(link);
  let self: Peer | undefined;
  const media = httpMediaStore(() => (self as Peer).mediaGrant());
  self = await Peer.create({
    jid: BOB,
    profile: x3dh,
    identity: user.identity,
    link,
    media,
    now: () => s.clock.now(),
  });
  peers.push(self);
  await logIn(link, await user.credentials());
  await self.uploadKeys();
  const bob = self;
  const exchange = async (n: number) => {
    const a = await alice.send(BOB, { type: 'text', text: `hello ${n}` });
    await bob.events.waitFor('message', (e) => e.id === a.id, { timeoutMs: 10_000 });
    const b = await bob.send(ALICE, { type: 'text', text: `hello back ${n}` });
    await alice.events.waitFor('message', (e) => e.id === b.id, { timeoutMs: 10_000 });
  };
  return { link, exchange };
}

// ---- one session ----------------------------------------------------------------------------------

interface Worker {
  readonly name: string;
  /** The loopback address this worker's connections come from. */
  readonly address: string;
  readonly credentials: () => Promise<Credentials>;
}

interface Result {
  readonly problem?: string;
  readonly outcome: string;
  readonly close?: number;
}

async function runSession(s: RunningServer, watch: Watch, w: Worker, sess: Session): Promise<Result> {
  const t0 = performance.now();
  const h = await HostileSocket.connect(s.wsUrl, { localAddress: w.address });
  sockets.push(h);
  let id: string | undefined;
  await watch.until(() => {
    id = watch.takeOpened(w.address);
    return id !== undefined;
  }, `${w.name}: the open event`);
  const log = watch.log(id as string);
  /** Per client frame the server should record, in order: must it be answered with a code? */
  const hostile: boolean[] = [];
  let flood = false;
  const transport: number[] = [];
  let cutBy: number | undefined;

  if (sess.login) {
    s.clock.advance(LOGIN_SPACING_MS);
    const c = await w.credentials();
    await h.text(
      serializeStanza(
        el('login', { jid: c.jid, authkey: Buffer.from(c.authKey).toString('base64'), token: c.token }),
      ),
    );
    hostile.push(false);
    await watch.until(
      () =>
        h.texts.some((t) => t.startsWith('<success') || t.startsWith('<failure')) || log.close !== undefined,
      `${w.name}: the answer to <login>`,
    );
    if (!h.texts.some((t) => t.startsWith('<success')))
      return { problem: `the login failed: ${h.texts.join(' ')}`, outcome: 'login failed' };
  }

  for (const a of sess.actions) {
    if (log.close) break;
    const before = hostile.length;
    const frames = framesFor(a, TRANSPORT_CAP_BYTES);
    for (let i = 0; i < frames; i++) hostile.push(a.kind !== 'flood');
    const cut = transportClose(a, TRANSPORT_CAP_BYTES);
    if (cut !== undefined) transport.push(cut);
    // The first action the WebSocket layer cuts decides the close.
    if (cut !== undefined && cutBy === undefined) cutBy = cut;
    const started = performance.now();
    await perform(h, a);
    // The server catches up: every frame recorded, or the connection closed.
    await watch.until(
      () => log.frames.length >= hostile.length || log.close !== undefined,
      `${w.name}: ${hostile.length - before} frames on ${id} (${log.frames.length - before} recorded)`,
    );
    // Over 200 pings taken in under a second are a flood by themselves, whatever came before.
    if (a.kind === 'flood' && a.count > 200 && performance.now() - started < 900) flood = true;
    if (cut !== undefined && !log.close) {
      await watch.until(() => log.close !== undefined, `${w.name}: the close after ${a.kind} on ${id}`);
    }
  }
  const closedBeforeEnding = log.close !== undefined;
  await end(h, sess.ending);
  await watch.until(() => log.close !== undefined, `${w.name}: the close of ${id} after ${sess.ending.kind}`);
  const close = log.close as NonNullable<ConnLog['close']>;
  if (!closedBeforeEnding) h.vanish();
  await h.gone;

  const fail = (problem: string): Result => ({ problem, outcome: 'failed', close: close.code });
  const internal = log.entries.find((e) => e.kind === 'event' && e.event === 'internal-error');
  if (internal) return fail(`internal-error: ${JSON.stringify(internal).slice(0, 400)}`);
  if (!ALLOWED_CLOSES.has(close.code))
    return fail(`closed with ${close.code}, a code no client fault explains`);
  if (log.frames.length > hostile.length)
    return fail(`${log.frames.length} frames recorded, ${hostile.length} sent`);
  // Frames the server did not record: only after it closed, or cut by the WebSocket layer.
  if (log.frames.length < hostile.length && !closedBeforeEnding)
    return fail(`${hostile.length - log.frames.length} frames neither recorded nor cut by a close`);
  if (transport.length > 0 && log.frames.length === hostile.length && !closedBeforeEnding)
    return fail(`the WebSocket layer should have closed with ${transport[0]}`);
  if (cutBy !== undefined && close.code !== cutBy)
    return fail(`closed with ${close.code}, where the WebSocket layer owes ${cutBy}`);
  const outcomes: string[] = [];
  for (let n = 0; n < log.frames.length; n++) {
    if (!hostile[n]) continue;
    const v = answerTo(log, n);
    if (!v.ok) return fail(`${v.why}: ${JSON.stringify(log.entries[log.frames[n] as number]).slice(0, 300)}`);
    outcomes.push(v.outcome);
  }
  const flagged = log.entries.some((e) => e.violations?.some((v) => v.code === 'VIO_TRANSPORT_FLOOD'));
  if (flood && !flagged && log.frames.length > 200)
    return fail('over 200 frames within a second, and no VIO_TRANSPORT_FLOOD');
  if (flagged) outcomes.unshift('VIO_TRANSPORT_FLOOD');
  if (performance.now() - t0 > 60_000) return fail('the session took over a minute');
  return { outcome: outcomes[0] ?? `close ${close.code}`, close: close.code };
}

// ---- the campaign ---------------------------------------------------------------------------------

describe('the hostile app campaign', () => {
  it(
    `${PLAN.cases} generated sessions: coded, closed and released, no internal error, the well-behaved pair unaffected`,
    async () => {
      const s = await startServer({ seed: 'hostile-app' });
      server = s;
      const watch = new Watch(s);
      const pair = await wellBehavedPair(s);
      await pair.exchange(0);
      const workers: Worker[] = [];
      for (let i = 0; i < WORKERS; i++) {
        const user = await enlistUser(s, `7000000020${i}`);
        workers.push({ name: `app-${i}`, address: `127.0.1.${i + 1}`, credentials: user.credentials });
      }
      const all = fc.sample(session(), {
        seed: PLAN.seed,
        numRuns: PLAN.replay === undefined ? PLAN.cases : PLAN.replay + 1,
      });
      const indices = PLAN.replay === undefined ? all.map((_, i) => i) : [PLAN.replay];
      const failures: string[] = [];
      const outcomes = new Map<string, number>();
      const closes = new Map<number, number>();
      const endings = new Map<string, number>();
      let frames = 0;

      let chatting = true;
      const chat = { exchanges: 0, errors: [] as string[] };
      const chatter = (async () => {
        for (let n = 1; chatting; n++) {
          await pair.exchange(n).then(
            () => chat.exchanges++,
            (e: unknown) => chat.errors.push(String(e)),
          );
          await sleep(50);
        }
      })();

      const t0 = performance.now();
      await Promise.all(
        workers.map(async (w, wi) => {
          for (let k = wi; k < indices.length; k += workers.length) {
            if (failures.length >= 5) return;
            const index = indices[k] as number;
            const sess = all[index] as Session;
            const r = await runSession(s, watch, w, sess).catch(
              (e: unknown): Result => ({
                problem: String(e),
                outcome: 'failed',
              }),
            );
            outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
            if (r.close !== undefined) closes.set(r.close, (closes.get(r.close) ?? 0) + 1);
            endings.set(sess.ending.kind, (endings.get(sess.ending.kind) ?? 0) + 1);
            frames += sess.actions.reduce((n, a) => n + framesFor(a, TRANSPORT_CAP_BYTES), 0);
            if (r.problem) {
              failures.push(
                `session ${index} (${w.name}): ${r.problem}\n  ${describeSession(sess)}\n  reproduce: ${replayCommand('socket', PLAN.seed, index)}`,
              );
            }
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      chatting = false;
      await chatter;
      expect(failures).toEqual([]);

      // The fence: the pair still talks, the server still answers HTTP, and nothing is left open.
      await pair.exchange(-1);
      const health = await fetch(`${s.httpUrl}/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(chat.errors).toEqual([]);
      expect(pair.link.closed).toBe(false);
      const all2 = s.transcript.entries();
      expect(all2.filter((e) => e.kind === 'event' && e.event === 'internal-error')).toEqual([]);
      watch.poll();
      const hostileConns = [...watch.conns.values()].filter((c) => c.remote?.startsWith('127.0.1.'));
      expect(hostileConns.length).toBe(indices.length);
      expect(hostileConns.filter((c) => c.close === undefined)).toEqual([]);
      console.log(
        `hostile app campaign: ${JSON.stringify({
          seed: PLAN.seed,
          sessions: indices.length,
          seconds: Math.round(seconds * 10) / 10,
          frames,
          exchanges: chat.exchanges,
          outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
          closes: Object.fromEntries([...closes].sort((a, b) => a[0] - b[0])),
          endings: Object.fromEntries(endings),
          replay: replayCommand('socket', PLAN.seed, 0).replace(':0 ', ':<case> '),
        })}`,
      );
    },
    Math.max(120_000, PLAN.cases * 100),
  );

  it('can fail: a server without its flood limit is caught letting 201 frames a second through', async () => {
    const s = await startServer({ seed: 'hostile-app-no-flood-limit', limits: { maxFramesPerSecond: 0 } });
    server = s;
    const watch = new Watch(s);
    const user = await enlistUser(s, '70000000301');
    const w: Worker = { name: 'app', address: '127.0.1.200', credentials: user.credentials };
    const flood: Session = {
      login: true,
      actions: [{ kind: 'flood', count: 300 }],
      ending: { kind: 'vanish' },
    };
    const r = await runSession(s, watch, w, flood);
    expect(r.problem).toBe('over 200 frames within a second, and no VIO_TRANSPORT_FLOOD');
  });

  it('the three attacks a WebSocket library cannot send: a 16 MiB frame, a flood, a vanish mid-frame', async () => {
    const s = await startServer({ seed: 'hostile-app-three' });
    server = s;
    const watch = new Watch(s);
    const user = await enlistUser(s, '70000000302');
    const w: Worker = { name: 'app', address: '127.0.1.201', credentials: user.credentials };
    const cases: readonly [Session, string, number][] = [
      [
        {
          login: true,
          actions: [{ kind: 'huge', extra: 0, binary: false, how: 'whole' }],
          ending: { kind: 'close', code: 1000 },
        },
        'close 1009',
        1009,
      ],
      [
        { login: true, actions: [{ kind: 'flood', count: 1000 }], ending: { kind: 'vanish' } },
        'VIO_TRANSPORT_FLOOD',
        1008,
      ],
      [
        { login: false, actions: [], ending: { kind: 'vanish-mid-frame', announced: 5000, sent: 2500 } },
        'close 1006',
        1006,
      ],
    ];
    for (const [sess, outcome, close] of cases) {
      const t0 = performance.now();
      expect(await runSession(s, watch, w, sess)).toEqual({ outcome, close });
      expect(performance.now() - t0).toBeLessThan(5_000);
    }
    // Nothing of the half frame reached the transcript as a frame.
    watch.poll();
    const last = [...watch.conns.values()].filter((c) => c.remote === w.address).at(-1);
    expect(last?.frames).toEqual([]);
  });

  it('draws every action and ending, reproducibly: session k is the same whatever the campaign size', () => {
    const big = fc.sample(session(), { seed: PLAN.seed, numRuns: 1_000 });
    const small = fc.sample(session(), { seed: PLAN.seed, numRuns: 100 });
    expect(small.map(describeSession)).toEqual(big.slice(0, 100).map(describeSession));
    const actions = new Set(big.flatMap((x) => x.actions.map((a) => a.kind)));
    expect([...actions].sort()).toEqual(['flood', 'fragments', 'frame', 'huge', 'ping-flood', 'protocol']);
    const endings = new Set(big.map((x) => x.ending.kind));
    expect(endings.size).toBe(6);
    expect(big.every((x) => !x.actions.some((a) => a.kind === 'flood') || x.login)).toBe(true);
  });
});
