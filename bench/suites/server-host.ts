// The far end of the server benchmark, in a process of its own: either the interop server
// (`startServer`, flood and login limits off, no idle pings) or a bare `ws` echo server. The
// benchmark forks it so that what is measured is the server's process alone (its CPU, heap and
// RSS), not the clients driving it. It answers the parent over IPC: its URLs when it is ready,
// then tokens, memory, CPU time, a transcript audit, and stop.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RunningServer } from '../../harness/server/server.ts';
import { startServer } from '../../harness/server/server.ts';

export type HostMode = 'server' | 'echo';

export type HostRequest =
  | { readonly id: number; readonly op: 'tokens'; readonly subs: readonly string[] }
  | { readonly id: number; readonly op: 'memory' }
  | { readonly id: number; readonly op: 'cpu' }
  | { readonly id: number; readonly op: 'audit' }
  | { readonly id: number; readonly op: 'stop' };

export interface HostReady {
  readonly ready: true;
  readonly wsUrl: string;
  readonly httpUrl: string;
}

export interface HostMemory {
  readonly gc: boolean;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly transcriptEntries: number;
}

export interface HostAudit {
  readonly transcriptEntries: number;
  readonly violations: number;
  readonly internalErrors: number;
}

export type HostReply =
  | HostReady
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

interface Host {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly server?: RunningServer;
  stop(): Promise<void>;
}

async function startEcho(): Promise<Host> {
  const http = createServer();
  // A bare echo: no parsing, no checks, each text frame straight back.
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => ws.terminate());
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    async stop() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}

async function startInterop(): Promise<Host> {
  const server = await startServer({ limits: { maxFramesPerSecond: 0, loginTimeoutMs: 0 }, idlePingMs: 0 });
  return { wsUrl: server.wsUrl, httpUrl: server.httpUrl, server, stop: () => server.stop() };
}

function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}

async function answer(host: Host, req: HostRequest): Promise<unknown> {
  switch (req.op) {
    case 'tokens': {
      const partner = host.server?.partner;
      if (!partner) throw new Error('no partner on an echo host');
      const out: string[] = [];
      for (const sub of req.subs) out.push(await partner.issueToken(sub));
      return out;
    }
    case 'memory': {
      const gc = collect();
      const m = process.memoryUsage();
      return {
        gc,
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        transcriptEntries: host.server?.transcript.entries().length ?? 0,
      } satisfies HostMemory;
    }
    case 'cpu': {
      const c = process.cpuUsage();
      return c.user + c.system;
    }
    case 'audit': {
      const t = host.server?.transcript;
      if (!t) return { transcriptEntries: 0, violations: 0, internalErrors: 0 } satisfies HostAudit;
      const entries = t.entries();
      return {
        transcriptEntries: entries.length,
        violations: t.violations().length,
        internalErrors: entries.filter((e) => e.kind === 'event' && e.event === 'internal-error').length,
      } satisfies HostAudit;
    }
    case 'stop':
      await host.stop();
      return true;
  }
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('server-host runs as a forked child of the server benchmark');
  const mode = process.argv[2] as HostMode;
  const host = mode === 'echo' ? await startEcho() : await startInterop();
  process.on('message', (req: HostRequest) => {
    answer(host, req).then(
      (value) =>
        send({ id: req.id, ok: true, value } satisfies HostReply, undefined, {}, () => {
          // Once stopped, nothing of the server may keep the process alive: it exits on its own.
          if (req.op === 'stop') process.disconnect();
        }),
      (e: unknown) => send({ id: req.id, ok: false, error: String(e) } satisfies HostReply),
    );
  });
  send({ ready: true, wsUrl: host.wsUrl, httpUrl: host.httpUrl } satisfies HostReply);
}

await main();
