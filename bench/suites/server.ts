// server: stanza routing through the interop server over real sockets, against a bare `ws` echo
// server measured in the same run, with 1000, 100 and 1 connected clients; and the memory one
// idle logged-in connection costs the server.
//
// What is measured, for both sides the same shape:
// - Each server runs in a forked process of its own (server-host.ts); all clients are in this
//   process, on loopback. With N connected clients, all N send at once, each a closed loop with
//   exactly one operation outstanding, so N operations are in flight.
// - echo/n=N: one round trip = a client sends a ~1.1 KB text frame (the same `<message>` text the
//   routed side sends) and receives it back. The echo server does nothing but send it back.
// - routed/n=N: one message = client i sends a `<message>` with a 768-byte `<enc>` (1 KB of
//   base64) to client i+1 (to itself when N = 1); it is done when the sender has the server's
//   `<ack>` and the recipient has the message. Every recipient acks each delivery. All clients
//   are interop users enlisted over HTTP (a partner token each) and logged in on the socket.
// - Figures: perSecond = operations completed in the window / window; meanMicros = 1e6 /
//   perSecond; p99MicrosPerIteration = p99 latency of one operation (send to completion).
//   Latency p50/p99 (ms) and the CPU time each process spent per operation are under `corpus`.
// - Each N is measured in rounds, the order swapped every round; each side keeps its best round.
//   N = 1 is latency-bound on both sides, so it depends on where the scheduler puts the two
//   processes: on a small machine the echo figure can differ 2x between runs.
// - Memory: the server process's RSS, heap and external memory after a full GC, with 1000 users
//   enlisted and none connected, then with the 1000 logged in and idle; the difference / 1000.
//   The same for the echo server (what `ws` alone costs). And the heap the server still holds
//   after all the routing, every connection closed, per message routed.
//
// Target: routed at least 0.4x echo at every N.
//
// BENCH_SERVER_PROF=DIR writes a V8 CPU profile of the interop server's process into DIR.

import { performance } from 'node:perf_hooks';
import type { BenchOptions, Figure, Ratio, Result, SuiteReport } from '../lib.ts';
import { ratio, ratioResult } from '../lib.ts';
import type { BenchClient, Host, LoopResult, LoopTiming } from './server-clients.ts';
import {
  closeAll,
  connectEcho,
  connectInterop,
  echoLoop,
  enlistUsers,
  forkHost,
  messageFrame,
  PAYLOAD_BASE64_CHARS,
  percentile,
  routedLoop,
} from './server-clients.ts';
import type { HostAudit, HostMemory } from './server-host.ts';

const COUNTS = [1000, 100, 1] as const;
// The machine may be shared: a burst of other work during one side's turn skews a ratio, so
// several short rounds in alternating order, and each side keeps its best.
const ROUNDS = 3;
const TARGET = 0.4;

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function figureOf(unit: string, r: LoopResult): Figure {
  const perSecond = Math.round(r.ops / r.seconds);
  return {
    unit,
    perSecond,
    meanMicros: perSecond > 0 ? round(1e6 / perSecond, 2) : Number.NaN,
    p99MicrosPerIteration: round(percentile(r.latenciesMs, 99) * 1000, 1),
    samples: r.ops,
  };
}

function details(name: string, r: LoopResult): Record<string, number> {
  return {
    [`${name}.p50Ms`]: round(percentile(r.latenciesMs, 50), 3),
    [`${name}.p99Ms`]: round(percentile(r.latenciesMs, 99), 3),
    [`${name}.serverCpuMicrosPerOp`]: round(r.hostCpuMicros / Math.max(1, r.ops), 2),
    [`${name}.clientCpuMicrosPerOp`]: round(r.clientCpuMicros / Math.max(1, r.ops), 2),
  };
}

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const profDir = process.env.BENCH_SERVER_PROF;
  const timing: LoopTiming = {
    warmupMs: Math.min(300, Math.round(opts.timeMs / 5)),
    measureMs: Math.max(300, Math.round(opts.timeMs / ROUNDS)),
  };
  const started = performance.now();
  const hosts: Host[] = [];
  let echoClients: BenchClient[] = [];
  let routedClients: BenchClient[] = [];
  try {
    const [echo, server] = await Promise.all([
      forkHost('echo'),
      forkHost('server', profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ]);
    hosts.push(echo, server);
    const max = COUNTS[0];
    const users = await enlistUsers(server, max);

    // Memory per idle connection, on a server no message has gone through yet.
    const before = await server.call<HostMemory>('memory');
    routedClients = await connectInterop(server, users);
    await sleep(100);
    const after = await server.call<HostMemory>('memory');
    // The same for the bare echo server: what ws itself costs per connection.
    const echoBefore = await echo.call<HostMemory>('memory');
    echoClients = await connectEcho(echo, max);
    await sleep(100);
    const echoAfter = await echo.call<HostMemory>('memory');

    const figures: Record<string, Figure> = {};
    const ratios: Record<string, Ratio> = {};
    const results: Result[] = [];
    const corpus: Record<string, number> = {
      maxClients: max,
      frameBytes: Buffer.byteLength(messageFrame(`3EB0${'0'.repeat(18)}`, users[0]?.jid ?? '')),
      encBase64Chars: PAYLOAD_BASE64_CHARS,
      rounds: ROUNDS,
      measureMsPerRound: timing.measureMs,
      'idle.connections': max,
      'idle.gcExposed': before.gc && after.gc ? 1 : 0,
      'idle.rssBytesPerConnection': Math.round((after.rss - before.rss) / max),
      'idle.heapBytesPerConnection': Math.round((after.heapUsed - before.heapUsed) / max),
      'idle.externalBytesPerConnection': Math.round((after.external - before.external) / max),
      'idle.transcriptEntriesPerConnection': round(
        (after.transcriptEntries - before.transcriptEntries) / max,
        2,
      ),
      'idle.echo.rssBytesPerConnection': Math.round((echoAfter.rss - echoBefore.rss) / max),
      'idle.echo.heapBytesPerConnection': Math.round((echoAfter.heapUsed - echoBefore.heapUsed) / max),
    };
    let routedTotal = 0;

    for (const n of COUNTS) {
      // Down to n connected clients on both sides.
      await Promise.all([closeAll(echoClients.splice(n)), closeAll(routedClients.splice(n))]);
      await sleep(50);
      const sides = [
        { name: `echo/n=${n}`, unit: 'round trips', go: () => echoLoop(echo, echoClients, timing) },
        { name: `routed/n=${n}`, unit: 'messages', go: () => routedLoop(server, routedClients, timing) },
      ];
      const best = new Map<string, LoopResult>();
      const perRound: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const ops = new Map<string, number>();
        for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
          const r = await side.go();
          if (side.name.startsWith('routed')) routedTotal += r.total;
          ops.set(side.name, r.ops);
          const b = best.get(side.name);
          if (!b || r.ops > b.ops) best.set(side.name, r);
        }
        perRound.push((ops.get(`routed/n=${n}`) ?? 0) / Math.max(1, ops.get(`echo/n=${n}`) ?? 0));
      }
      for (const side of sides) {
        const r = best.get(side.name);
        if (!r) throw new Error(`unreachable: no round for ${side.name}`);
        figures[side.name] = figureOf(side.unit, r);
        Object.assign(corpus, details(side.name, r));
      }
      ratios[`routed/echo/n=${n}`] = ratio(figures, `routed/n=${n}`, `echo/n=${n}`, { atLeast: TARGET });
      const routed = best.get(`routed/n=${n}`);
      const echoed = best.get(`echo/n=${n}`);
      if (routed && echoed) {
        results.push(
          ratioResult(
            `server routing vs bare ws echo, ${n} connection${n === 1 ? '' : 's'}`,
            routed.ops / routed.seconds,
            echoed.ops / echoed.seconds,
            TARGET,
            'messages/s',
            {
              baselineUnit: 'round trips/s (ws echo)',
              perRound,
              details: {
                p50Ms: round(percentile(routed.latenciesMs, 50), 3),
                p99Ms: round(percentile(routed.latenciesMs, 99), 3),
                baselineP50Ms: round(percentile(echoed.latenciesMs, 50), 3),
                baselineP99Ms: round(percentile(echoed.latenciesMs, 99), 3),
                serverCpuMicrosPerMessage: round(routed.hostCpuMicros / Math.max(1, routed.ops), 1),
                echoCpuMicrosPerRoundTrip: round(echoed.hostCpuMicros / Math.max(1, echoed.ops), 1),
              },
            },
          ),
        );
      }
    }

    await Promise.all([closeAll(echoClients.splice(0)), closeAll(routedClients.splice(0))]);
    // What routing left behind on the server, all connections closed again.
    await sleep(100);
    const drained = await server.call<HostMemory>('memory');
    corpus['routed.messages'] = routedTotal;
    corpus['routed.heapBytesRetainedPerMessage'] = Math.round(
      (drained.heapUsed - before.heapUsed) / Math.max(1, routedTotal),
    );
    const audit = await server.call<HostAudit>('audit');
    if (audit.violations > 0 || audit.internalErrors > 0) {
      throw new Error(
        `benchmark sanity check failed: the server recorded ${audit.violations} violations and ` +
          `${audit.internalErrors} internal errors`,
      );
    }
    corpus.transcriptEntries = audit.transcriptEntries;
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    corpus.seconds = round((performance.now() - started) / 1000, 1);
    return { results, corpus, figures, ratios };
  } finally {
    for (const c of [...echoClients, ...routedClients]) c.ws.terminate();
    for (const h of hosts) h.kill();
  }
}
