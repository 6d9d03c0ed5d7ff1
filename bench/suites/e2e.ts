// e2e: text messages end to end, per profile, against the bare Signal library doing the same
// encryption in the same run.
//
// - inbound: a WhatsApp user (a peer, attached in-process) sends text messages to the reference
//   candidate over the real server; one is done when the candidate reports it received
//   (decrypted, unpadded, decoded, acked and receipted on the wire).
// - outbound: the candidate sends text messages to the peer; one is done when the peer has
//   decrypted it.
// - bare: the same plaintexts (encodePlaintext of the same texts: protobuf and random padding)
//   encrypted and decrypted on an established session by the bare library (libsignal-client for
//   signal-pqxdh, libsignal-node for signal-x3dh).
//
// Everything runs in this one process, on one thread, as in an in-process certification: the
// server with its full pipeline and transcript, the peer, the candidate on a real WebSocket.
// Each direction keeps WINDOW messages in flight. The flood limit is off (the peer and the
// candidate exchange far more than 200 frames a second); every other check stays on, and the
// run fails if the server recorded any violation. Measured in rounds in alternating order; each
// side keeps its best round, the spread is the ratio of each round. Target: at least 0.3x.

import { performance } from 'node:perf_hooks';
import { ReferenceCandidate } from '../../fixtures/candidates/reference/driver.ts';
import { encodePlaintext } from '../../harness/crypto/padding.ts';
import { getProfile } from '../../harness/crypto/profiles.ts';
import type { CryptoProfileId, DriverEvent } from '../../harness/driver/contract.ts';
import type { Peer } from '../../harness/peers/peer.ts';
import type { RunningServer } from '../../harness/server/server.ts';
import { startServer } from '../../harness/server/server.ts';
import type { BenchOptions, Result, SuiteReport } from '../lib.ts';
import { ratioResult, round } from '../lib.ts';
import type { BarePair } from './bare-signal.ts';
import { bareClientPair, bareNodePair, bareTsPair } from './bare-signal.ts';

const TARGET = 0.3;
const ROUNDS = 3;
const WINDOW = 16;
const DRAIN_MS = 15_000;
const PEER = '491709990001@s.whatsapp.net';

interface Timing {
  readonly warmupMs: number;
  readonly measureMs: number;
}

interface Window {
  /** Operations completed inside the measuring window, per second. */
  readonly perSecond: number;
  readonly completed: number;
}

const textOf = (i: number) => `benchmark message ${i}: the quick brown fox jumps over the lazy dog`;

let ids = 0;
const nextId = () => `3EB0${(++ids).toString(16).toUpperCase().padStart(18, '0')}`;

/**
 * Keeps `width` operations in flight: `start(i)` begins one and resolves to its id; `done(id)`
 * is called by whoever sees it complete. Counts completions inside [warmup, warmup + measure).
 */
async function windowed(
  timing: Timing,
  width: number,
  start: (i: number) => Promise<string>,
  wire: (done: (id: string) => void) => () => void,
): Promise<Window> {
  const t0 = performance.now() + timing.warmupMs;
  const t1 = t0 + timing.measureMs;
  let completed = 0;
  let inFlight = 0;
  let n = 0;
  let failure: Error | undefined;
  let drained: (() => void) | undefined;
  const early = new Set<string>();
  const waiting = new Set<string>();
  const launch = () => {
    inFlight += 1;
    start(n++).then(
      (id) => {
        if (early.delete(id)) finish();
        else waiting.add(id);
      },
      (e: unknown) => {
        failure ??= e instanceof Error ? e : new Error(String(e));
        drained?.();
      },
    );
  };
  const finish = () => {
    const now = performance.now();
    inFlight -= 1;
    if (now >= t0 && now < t1) completed += 1;
    if (now < t1 && !failure) launch();
    else if (inFlight === 0) drained?.();
  };
  const unwire = wire((id) => {
    // The completion can be seen before the sender's call has handed back the id.
    if (waiting.delete(id)) finish();
    else early.add(id);
  });
  try {
    for (let i = 0; i < width; i++) launch();
    await new Promise<void>((resolve) => {
      drained = resolve;
      setTimeout(
        () => {
          failure ??= new Error(`${inFlight} messages still in flight ${DRAIN_MS} ms after the window`);
          resolve();
        },
        timing.warmupMs + timing.measureMs + DRAIN_MS,
      ).unref();
    });
  } finally {
    unwire();
  }
  if (failure) throw failure;
  return { perSecond: completed / (timing.measureMs / 1000), completed };
}

/** One operation after the other for the same windows (the bare library, nothing to overlap). */
async function sequential(timing: Timing, op: (i: number) => Promise<void>): Promise<Window> {
  const t0 = performance.now() + timing.warmupMs;
  const t1 = t0 + timing.measureMs;
  let completed = 0;
  for (let i = 0; ; i++) {
    await op(i);
    const now = performance.now();
    if (now >= t1) break;
    if (now >= t0) completed += 1;
  }
  return { perSecond: completed / (timing.measureMs / 1000), completed };
}

/** The candidate's events, as they come (the driver contract's long poll, in-process). */
function watchCandidate(candidate: ReferenceCandidate): {
  subscribe(fn: (e: DriverEvent) => void): () => void;
  stop(): void;
} {
  const listeners = new Set<(e: DriverEvent) => void>();
  let running = true;
  let last = 0;
  void (async () => {
    while (running) {
      const r = await candidate.events(last, 200);
      last = r.last;
      for (const e of r.events) for (const fn of listeners) fn(e);
    }
  })();
  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    stop() {
      running = false;
    },
  };
}

interface Setup {
  readonly server: RunningServer;
  readonly candidate: ReferenceCandidate;
  readonly me: string;
  readonly peer: Peer;
  readonly events: ReturnType<typeof watchCandidate>;
  readonly since: number;
}

async function setUp(profile: CryptoProfileId): Promise<Setup> {
  const server = await startServer({ limits: { maxFramesPerSecond: 0 }, idlePingMs: 0 });
  const since = server.transcript.seq;
  const candidate = new ReferenceCandidate({ profile, preKeyCount: 50 });
  const { jid: me } = await candidate.connect({
    httpUrl: server.httpUrl,
    wsUrl: server.wsUrl,
    partner: { sub: '7100000001', tokenUrl: server.tokenUrl ?? '' },
  });
  const peer = await server.attachPeer({ jid: PEER, profile: getProfile(profile), preKeyCount: 20 });
  const events = watchCandidate(candidate);
  // Sessions both ways before anything is measured: the steady state is `msg`, not `pkmsg`.
  const hi = nextId();
  const seen = new Promise<void>((resolve) => {
    const off = events.subscribe((e) => {
      if (e.type === 'message-received' && e.id === hi) {
        off();
        resolve();
      }
    });
  });
  await peer.send(me, { type: 'text', text: 'hi' }, { id: hi });
  await seen;
  const { id } = await candidate.send({ to: PEER, content: { type: 'text', text: 'hello' } });
  await peer.events.waitFor('message', (e) => e.id === id);
  return { server, candidate, me, peer, events, since };
}

async function tearDown(s: Setup): Promise<void> {
  s.events.stop();
  await s.candidate.close();
  await s.server.stop();
}

/** What the candidate reported that clean traffic never causes: a rejection, a failed send. */
function troubles(s: Setup): { readonly seen: DriverEvent[]; stop(): void } {
  const seen: DriverEvent[] = [];
  const stop = s.events.subscribe((e) => {
    if (e.type === 'message-rejected' || e.type === 'send-failed') seen.push(e);
  });
  return { seen, stop };
}

interface Case {
  readonly profile: CryptoProfileId;
  readonly bare: () => Promise<Pick<BarePair, 'message'>>;
  readonly library: string;
  /** The candidate's own library for this profile, when it is not the bare one. */
  readonly candidateLibrary?: {
    readonly name: string;
    readonly pair: () => Promise<Pick<BarePair, 'message'>>;
  };
}

async function profileCase(
  c: Case,
  timing: Timing,
): Promise<{ results: Result[]; corpus: Record<string, number> }> {
  const { profile, library } = c;
  const s = await setUp(profile);
  const pair = await c.bare();
  const own = c.candidateLibrary ? await c.candidateLibrary.pair() : undefined;
  const trouble = troubles(s);
  try {
    const inbound = () =>
      windowed(
        timing,
        WINDOW,
        async (i) => {
          const id = nextId();
          await s.peer.send(s.me, { type: 'text', text: textOf(i) }, { id });
          return id;
        },
        (done) =>
          s.events.subscribe((e) => {
            if (e.type === 'message-received') done(e.id);
          }),
      );
    const outbound = () =>
      windowed(
        timing,
        WINDOW,
        async (i) => (await s.candidate.send({ to: PEER, content: { type: 'text', text: textOf(i) } })).id,
        (done) =>
          s.peer.events.subscribe((e) => {
            if (e.type === 'message') done(e.id);
          }),
      );
    const plain = () =>
      sequential(timing, async (i) => {
        await pair.message(encodePlaintext({ type: 'text', text: textOf(i) }));
      });
    const sides: { readonly name: string; readonly go: () => Promise<Window> }[] = [
      { name: 'bare', go: plain },
      { name: 'inbound', go: inbound },
      { name: 'outbound', go: outbound },
    ];
    if (own) {
      sides.push({
        name: 'candidate-library',
        go: () =>
          sequential(timing, async (i) => {
            await own.message(encodePlaintext({ type: 'text', text: textOf(i) }));
          }),
      });
    }
    const best = new Map<string, number>();
    const rounds: Map<string, number>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const got = new Map<string, number>();
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        const w = await side.go();
        got.set(side.name, w.perSecond);
        best.set(side.name, Math.max(best.get(side.name) ?? 0, w.perSecond));
      }
      rounds.push(got);
    }
    if (trouble.seen.length > 0) {
      throw new Error(
        `benchmark sanity check failed: the candidate reported ${JSON.stringify(trouble.seen[0])}`,
      );
    }
    const violations = s.server.transcript.violations(s.since);
    if (violations.length > 0) {
      throw new Error(
        `benchmark sanity check failed: the server recorded ${violations.length} violations, the first ${violations[0]?.code}: ${violations[0]?.message}`,
      );
    }
    const baseline = best.get('bare') ?? 0;
    const per = (name: string) => rounds.map((g) => (g.get(name) ?? 0) / Math.max(1, g.get('bare') ?? 0));
    const ownRate = best.get('candidate-library');
    const details =
      ownRate === undefined || !c.candidateLibrary
        ? undefined
        : {
            candidateLibrary: c.candidateLibrary.name,
            candidateLibraryMessagesPerSecond: round(ownRate, 1),
          };
    const results = [
      ratioResult(
        `end to end, peer to reference candidate, ${profile}`,
        best.get('inbound') ?? 0,
        baseline,
        TARGET,
        'messages/s',
        {
          baselineUnit: `messages/s (bare ${library} encrypt+decrypt)`,
          perRound: per('inbound'),
          ...(details ? { details } : {}),
        },
      ),
      ratioResult(
        `end to end, reference candidate to peer, ${profile}`,
        best.get('outbound') ?? 0,
        baseline,
        TARGET,
        'messages/s',
        {
          baselineUnit: `messages/s (bare ${library} encrypt+decrypt)`,
          perRound: per('outbound'),
          ...(details ? { details } : {}),
        },
      ),
    ];
    return {
      results,
      corpus: {
        [`${profile}.transcriptEntries`]: s.server.transcript.entries().length,
        [`${profile}.plaintextBytes`]: encodePlaintext({ type: 'text', text: textOf(1000) }).byteLength,
      },
    };
  } finally {
    trouble.stop();
    await tearDown(s);
  }
}

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const started = performance.now();
  const timing: Timing = {
    warmupMs: Math.min(300, Math.round(opts.timeMs / 5)),
    measureMs: Math.max(400, Math.round(opts.timeMs / ROUNDS)),
  };
  const results: Result[] = [];
  const corpus: Record<string, number> = {
    window: WINDOW,
    rounds: ROUNDS,
    measureMsPerRound: timing.measureMs,
  };
  const cases: Case[] = [
    { profile: 'signal-pqxdh', bare: bareClientPair, library: 'libsignal-client' },
    {
      profile: 'signal-x3dh',
      bare: bareNodePair,
      library: 'libsignal-node',
      candidateLibrary: { name: '@privacyresearch/libsignal-protocol-typescript', pair: bareTsPair },
    },
  ];
  for (const c of cases) {
    const r = await profileCase(c, timing);
    results.push(...r.results);
    Object.assign(corpus, r.corpus);
  }
  corpus.seconds = round((performance.now() - started) / 1000, 1);
  return { results, corpus };
}
