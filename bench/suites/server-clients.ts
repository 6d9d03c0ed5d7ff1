// The near end of the server benchmark: the forked host, interop users enlisted over HTTP, raw
// `ws` client sockets, and the closed loops that drive them. Clients stay as cheap as the echo
// baseline's: they build frames by concatenation and read the few attributes they need with
// indexOf, so the client process is not what limits either figure.

import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { getProfile } from '../../harness/crypto/profiles.ts';
import { enlist, enlistForm, newAuthKey } from '../../harness/peers/interop-client.ts';
import { el } from '../../harness/xml/node.ts';
import { serializeStanza } from '../../harness/xml/serialize.ts';
import type { HostMode, HostReady, HostReply, HostRequest } from './server-host.ts';

// ---- the host process ------------------------------------------------------------------------

type Op = HostRequest['op'];
type Extra<O extends Op> = Omit<Extract<HostRequest, { op: O }>, 'id' | 'op'>;

export interface Host {
  readonly mode: HostMode;
  readonly wsUrl: string;
  readonly httpUrl: string;
  call<T>(op: Op, extra?: Extra<Op>): Promise<T>;
  /** Stops the server and waits for the process to exit on its own (nothing left open). */
  stop(): Promise<void>;
  /** Last resort after a failure: kills the process. */
  kill(): void;
}

const HOST_EXIT_MS = 5000;

export async function forkHost(mode: HostMode, extraExecArgv: readonly string[] = []): Promise<Host> {
  const child: ChildProcess = fork(new URL('./server-host.ts', import.meta.url), [mode], {
    // The parent's own flags carry the TypeScript loader; gc is exposed so memory is measured
    // after a full collection.
    execArgv: [...process.execArgv, '--expose-gc', ...extraExecArgv],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ids = 0;
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`${mode} host exited (${code})`));
    waiting.clear();
  });
  const ready = await new Promise<HostReady>((resolve, reject) => {
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`${mode} host exited (${code}) before it was ready`)));
    child.on('message', (m: HostReply) => {
      if ('ready' in m) return resolve(m);
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.ok) w?.resolve(m.value);
      else w?.reject(new Error(`${mode} host: ${m.error}`));
    });
  });
  const host: Host = {
    mode,
    wsUrl: ready.wsUrl,
    httpUrl: ready.httpUrl,
    call<T>(op: Op, extra: Extra<Op> = {}) {
      const id = ++ids;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: (v) => resolve(v as T), reject });
        child.send({ id, op, ...extra });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      await host.call('stop');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), HOST_EXIT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (code === 'timeout') {
        child.kill();
        throw new Error(`${mode} host still running ${HOST_EXIT_MS} ms after stop: something was left open`);
      }
      if (code !== 0) throw new Error(`${mode} host exited with ${code}`);
    },
    kill() {
      if (child.exitCode === null) child.kill();
    },
  };
  return host;
}

// ---- interop users -----------------------------------------------------------------------------

const subOf = (i: number) => String(7_700_000_000 + i);
/** User i's address; the echo side writes the same bytes in its frames. */
const addressOf = (i: number) => `1-${subOf(i)}@interop`;

export interface InteropUser {
  readonly jid: string;
  readonly authKey: Uint8Array;
  readonly token: string;
}

/** Runs `f` over `items`, at most `width` at a time. */
export async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  f: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(f))));
  return out;
}

/**
 * `count` interop users, each with a partner token of its own, enlisted over HTTP. They share
 * one identity: the server checks the signed-prekey signature at enlistment, and one identity's
 * form fields are as valid for every sub.
 */
export async function enlistUsers(host: Host, count: number): Promise<InteropUser[]> {
  const subs = Array.from({ length: count }, (_, i) => subOf(i));
  const tokens = await host.call<string[]>('tokens', { subs });
  const identity = await getProfile('signal-x3dh').createIdentity({ preKeyCount: 0 });
  const users = subs.map((_, i) => ({ jid: addressOf(i), authKey: newAuthKey(), token: tokens[i] ?? '' }));
  await inBatches(users, 16, async (u) => {
    const reply = await enlist(host.httpUrl, enlistForm(identity, u.authKey, u.token));
    if (reply.status !== 'ok') throw new Error(`enlistment of ${u.jid} failed: ${reply.reason}`);
  });
  return users;
}

// ---- client sockets ----------------------------------------------------------------------------

export interface BenchClient {
  readonly ws: WebSocket;
  /** The logged-in address; empty on the echo side. */
  readonly jid: string;
  /** Every inbound text frame, decoded, goes here. */
  onText: (text: string) => void;
  /** Resolves once the socket has closed. */
  readonly gone: Promise<void>;
}

const ignore = (_text: string) => {};

function open(url: string, jid: string): Promise<BenchClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const gone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  const client: BenchClient = { ws, jid, onText: ignore, gone };
  ws.on('message', (data: Buffer) => client.onText(data.toString('utf8')));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => ws.terminate());
      resolve(client);
    });
  });
}

export function connectEcho(host: Host, count: number): Promise<BenchClient[]> {
  return inBatches(
    Array.from({ length: count }, () => host.wsUrl),
    64,
    (url) => open(url, ''),
  );
}

/** Connects and logs in each user; resolves when every one has its `<success>` and mailbox marker. */
export function connectInterop(host: Host, users: readonly InteropUser[]): Promise<BenchClient[]> {
  return inBatches(users, 64, async (u) => {
    const c = await open(host.wsUrl, u.jid);
    await new Promise<void>((resolve, reject) => {
      c.onText = (text) => {
        if (text.startsWith('<failure')) reject(new Error(`login of ${u.jid} refused: ${text}`));
        // The empty mailbox's marker follows <success>: after it the connection is quiet.
        else if (text.startsWith('<ib')) resolve();
      };
      c.ws.send(
        serializeStanza(
          el('login', { jid: u.jid, authkey: Buffer.from(u.authKey).toString('base64'), token: u.token }),
        ),
      );
    });
    c.onText = ignore;
    return c;
  });
}

export async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  for (const c of clients) c.ws.close(1000);
  await Promise.all(clients.map((c) => c.gone));
}

// ---- the closed loops --------------------------------------------------------------------------

/** The `<enc>` body: 768 bytes, 1024 base64 characters on the wire. */
const ENC = randomBytes(768).toString('base64');
export const PAYLOAD_BASE64_CHARS = ENC.length;

let messageSeq = 0;
const nextId = () => `3EB0${(++messageSeq).toString(16).toUpperCase().padStart(18, '0')}`;

/** The frame both sides send: a client `<message>`, about 1.1 KB. */
export function messageFrame(id: string, to: string): string {
  return `<message id="${id}" to="${to}" type="text"><enc type="msg" v="2">${ENC}</enc></message>`;
}

function attr(text: string, name: string): string {
  const key = ` ${name}="`;
  const at = text.indexOf(key);
  if (at < 0) return '';
  const from = at + key.length;
  return text.slice(from, text.indexOf('"', from));
}

export interface LoopResult {
  /** Operations completed inside the measuring window. */
  readonly ops: number;
  /** Operations completed in all, warmup and drain included. */
  readonly total: number;
  readonly seconds: number;
  /** Each completed operation's latency, ms, sorted. */
  readonly latenciesMs: Float64Array;
  /** CPU time of the host process over the window, µs. */
  readonly hostCpuMicros: number;
  /** CPU time of this (client) process over the window, µs. */
  readonly clientCpuMicros: number;
}

export interface LoopTiming {
  readonly warmupMs: number;
  readonly measureMs: number;
}

const DRAIN_MS = 10_000;

/** What a loop kind wires into its clients: returns the function that starts operation i. */
type Wire = (done: (i: number, sentAt: number) => void, fail: (e: Error) => void) => (i: number) => void;

/**
 * Every client keeps exactly one operation outstanding: it starts the next as soon as the last
 * completed. Operations completed within [warmup, warmup + measure) are counted; then no new
 * ones start and the loops drain.
 */
async function closedLoop(
  host: Host,
  clients: readonly BenchClient[],
  timing: LoopTiming,
  wire: Wire,
): Promise<LoopResult> {
  const t0 = performance.now() + timing.warmupMs;
  const t1 = t0 + timing.measureMs;
  const latencies: number[] = [];
  let total = 0;
  let running = true;
  let busy = 0;
  let failure: Error | undefined;
  let settled: (() => void) | undefined;
  const done = (i: number, sentAt: number) => {
    const now = performance.now();
    total += 1;
    if (now >= t0 && now < t1) latencies.push(now - sentAt);
    if (running && !failure) return start(i);
    busy -= 1;
    if (busy === 0) settled?.();
  };
  const fail = (e: Error) => {
    failure ??= e;
    settled?.();
  };
  const start = wire(done, fail);
  for (let i = 0; i < clients.length; i++) {
    busy += 1;
    start(i);
  }
  const marks: { host: number; client: NodeJS.CpuUsage }[] = [];
  const mark = async () => marks.push({ host: await host.call<number>('cpu'), client: process.cpuUsage() });
  await new Promise((r) => setTimeout(r, timing.warmupMs));
  await mark();
  await new Promise((r) => setTimeout(r, Math.max(0, t1 - performance.now())));
  await mark();
  running = false;
  await new Promise<void>((resolve) => {
    if (busy === 0 || failure) return resolve();
    const timer = setTimeout(() => {
      failure ??= new Error(`${busy} operations still outstanding ${DRAIN_MS} ms after the window`);
      resolve();
    }, DRAIN_MS);
    settled = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  for (const c of clients) c.onText = ignore;
  if (failure) throw failure;
  const [a, b] = marks;
  if (!a || !b) throw new Error('unreachable: two CPU marks');
  return {
    ops: latencies.length,
    total,
    seconds: timing.measureMs / 1000,
    latenciesMs: Float64Array.from(latencies).sort(),
    hostCpuMicros: b.host - a.host,
    clientCpuMicros: b.client.user - a.client.user + (b.client.system - a.client.system),
  };
}

/** Round trips through the bare echo: client i sends a frame and waits for it to come back. */
export function echoLoop(
  host: Host,
  clients: readonly BenchClient[],
  timing: LoopTiming,
): Promise<LoopResult> {
  return closedLoop(host, clients, timing, (done) => {
    const n = clients.length;
    const sentAt = new Float64Array(n);
    clients.forEach((c, i) => {
      c.onText = () => done(i, sentAt[i] ?? 0);
    });
    return (i) => {
      sentAt[i] = performance.now();
      (clients[i] as BenchClient).ws.send(messageFrame(nextId(), addressOf((i + 1) % n)));
    };
  });
}

/**
 * Messages routed by the server: client i sends a `<message>` to client i+1 (itself when alone).
 * One is done when the sender has the server's ack and the recipient has the message; the
 * recipient acks every delivery, so nothing stays in flight at the server.
 */
export function routedLoop(
  host: Host,
  clients: readonly BenchClient[],
  timing: LoopTiming,
): Promise<LoopResult> {
  return closedLoop(host, clients, timing, (done, fail) => {
    const n = clients.length;
    const pending: string[] = new Array<string>(n).fill('');
    const acked = new Uint8Array(n);
    const delivered = new Uint8Array(n);
    const sentAt = new Float64Array(n);
    const index = new Map(clients.map((c, i) => [c.jid, i]));
    const settle = (i: number) => {
      if (acked[i] === 1 && delivered[i] === 1) {
        pending[i] = '';
        done(i, sentAt[i] ?? 0);
      }
    };
    clients.forEach((c, i) => {
      c.onText = (text) => {
        if (text.startsWith('<ack ')) {
          const id = attr(text, 'id');
          if (attr(text, 'error') !== '') return fail(new Error(`the server refused ${id}: ${text}`));
          if (id !== pending[i]) return;
          acked[i] = 1;
          settle(i);
        } else if (text.startsWith('<message ')) {
          const id = attr(text, 'id');
          const from = attr(text, 'from');
          c.ws.send(`<ack class="message" id="${id}" to="${from}"/>`);
          const s = index.get(from);
          if (s === undefined || pending[s] !== id) return;
          delivered[s] = 1;
          settle(s);
        } else if (!text.startsWith('<ib')) {
          fail(new Error(`unexpected stanza: ${text.slice(0, 200)}`));
        }
      };
    });
    return (i) => {
      const id = nextId();
      pending[i] = id;
      acked[i] = 0;
      delivered[i] = 0;
      sentAt[i] = performance.now();
      (clients[i] as BenchClient).ws.send(messageFrame(id, (clients[(i + 1) % n] as BenchClient).jid));
    };
  });
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
