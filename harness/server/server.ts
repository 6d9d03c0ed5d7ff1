// The simulated WhatsApp interop server, assembled: one loopback port serving HTTP
// (enlistment, push key set, media) and the chat WebSocket, the stanza core behind both, a
// virtual clock, a transcript, the test partner, and a way to attach the harness's WhatsApp
// users. Scenarios, `interop-cert serve` and the tests all start it through `startServer`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';
import type { CryptoProfile } from '../crypto/profile.ts';
import { httpMediaStore } from '../peers/http-media.ts';
import { Peer } from '../peers/peer.ts';
import type { ClockOptions } from './clock.ts';
import { VirtualClock } from './clock.ts';
import type { ConnectionLimits } from './connection.ts';
import { ServerCore } from './core.ts';
import { createHttpHandler } from './http.ts';
import { createMediaService } from './media-service.ts';
import { nativePair } from './native-link.ts';
import type { TestPartner } from './partner.ts';
import { createTestPartner, createTokenVerifier } from './partner.ts';
import type { PushRecorder } from './push.ts';
import { createPushRecorder } from './push.ts';
import { Transcript } from './transcript.ts';
import { createMemoryAcceptor } from './transport-memory.ts';
import { attachWebSocket } from './transport-ws.ts';

let memoryServers = 0;

export const PARTNER_TOKEN_PATH = '/partner/token';

/** `POST /partner/token {"sub":"digits"}` -> `{"token": JWT}`, timed by the server clock. */
function servePartnerToken(req: IncomingMessage, res: ServerResponse, partner: TestPartner): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 1024) chunks.push(c);
  });
  req.on('end', () => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let sub: unknown;
    try {
      sub = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sub?: unknown }).sub;
    } catch {
      return reply(400, { error: 'body is not JSON' });
    }
    if (size > 1024 || typeof sub !== 'string' || !/^[0-9]{1,20}$/.test(sub)) {
      return reply(400, { error: 'sub must be 1 to 20 digits' });
    }
    partner.issueToken(sub).then(
      (token) => reply(200, { token }),
      () => reply(500, { error: 'token not issued' }),
    );
  });
}

export interface ServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Seeds the test partner's and the push keys, so a seeded run publishes the same JWKS. */
  readonly seed?: string;
  readonly clock?: ClockOptions;
  /** Stream the transcript to this JSONL file as it happens. */
  readonly transcriptFile?: string;
  /** Keep at most this many transcript entries in memory (the file keeps all): long-running serve, load tests. */
  readonly transcriptMaxEntries?: number;
  readonly limits?: Partial<ConnectionLimits>;
  readonly partnerPushUrl?: string;
  /** A vendor's own partner keys instead of the hosted test partner's (tokens signed by them). */
  readonly partnerKeys?: { readonly jwks: JSONWebKeySet; readonly issuer: string };
  readonly idlePingMs?: number;
  readonly pingAnswerMs?: number;
  /**
   * `ws` (default): the chat socket on the loopback port. `memory`: the chat socket in-process
   * over mock-socket (connect with connectMockLink to `wsUrl`), for fast unit tests; HTTP stays
   * on the loopback port either way.
   */
  readonly transport?: 'ws' | 'memory';
}

export interface NativePeerOptions {
  readonly jid: string;
  readonly profile: CryptoProfile;
  readonly name?: string;
  readonly optedIn?: boolean;
  readonly preKeyCount?: number;
  readonly seed?: string;
  /** Upload keys on attach (default true). */
  readonly uploadKeys?: boolean;
}

export interface RunningServer {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly clock: VirtualClock;
  readonly transcript: Transcript;
  readonly core: ServerCore;
  readonly partner: TestPartner;
  readonly push: PushRecorder;
  /** The test partner's token endpoint (driver contract `tokenUrl`), unless partnerKeys are set. */
  readonly tokenUrl: string | undefined;
  /** Attaches a WhatsApp user in-process (logged in, media over the server's HTTP). */
  attachPeer(options: NativePeerOptions): Promise<Peer>;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const clock = new VirtualClock(options.clock);
  const transcript = new Transcript(clock, {
    ...(options.transcriptFile ? { file: options.transcriptFile } : {}),
    ...(options.transcriptMaxEntries ? { maxEntries: options.transcriptMaxEntries } : {}),
  });
  const partner = createTestPartner({ clock, ...(options.seed ? { seed: `${options.seed}/partner` } : {}) });
  const push = createPushRecorder({
    clock,
    transcript,
    ...(options.seed ? { seed: `${options.seed}/push` } : {}),
    ...(options.partnerPushUrl ? { partnerPushUrl: options.partnerPushUrl } : {}),
  });
  let port = 0;
  const media = createMediaService({ clock, host: () => `127.0.0.1:${port}` });
  const tokens = options.partnerKeys
    ? createTokenVerifier({ ...options.partnerKeys, clock })
    : partner.verifier(clock);
  const core = new ServerCore({
    clock,
    transcript,
    tokens,
    media,
    onStored: (to) => push.push(to),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.idlePingMs === undefined ? {} : { idlePingMs: options.idlePingMs }),
    ...(options.pingAnswerMs === undefined ? {} : { pingAnswerMs: options.pingAnswerMs }),
  });
  const handler = createHttpHandler({
    enlistment: { verifier: tokens, enlister: core },
    media,
    push,
    transcript,
    clock,
  });
  // The test partner's token endpoint: the "partner backend" of candidates under test (the
  // driver contract's `tokenUrl`). Served only while the server trusts its own test partner.
  const partnerTokens = options.partnerKeys ? undefined : partner;
  const http = createServer((req, res) => {
    if (partnerTokens && req.url === PARTNER_TOKEN_PATH && req.method === 'POST') {
      servePartnerToken(req, res, partnerTokens);
      return;
    }
    handler(req, res);
  });
  const onError = (error: unknown, channel: string) =>
    transcript.event({ event: 'internal-error', connection: channel, detail: { error: String(error) } });
  const memoryUrl = `ws://in-process-${++memoryServers}.invalid/ws/chat`;
  const acceptor =
    options.transport === 'memory'
      ? createMemoryAcceptor(memoryUrl, { onError })
      : attachWebSocket(http, { onError });
  acceptor.onChannel((channel) => core.accept(channel));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  transcript.event({ event: 'server-started', detail: { port } });

  let natives = 0;
  const peers: Peer[] = [];
  return {
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: options.transport === 'memory' ? memoryUrl : `ws://127.0.0.1:${port}/ws/chat`,
    port,
    clock,
    transcript,
    core,
    partner,
    push,
    tokenUrl: partnerTokens ? `http://127.0.0.1:${port}${PARTNER_TOKEN_PATH}` : undefined,
    async attachPeer(o) {
      const { channel, link } = nativePair(`w${++natives}`);
      core.attachNative(channel, o.jid, {
        ...(o.optedIn === undefined ? {} : { optedIn: o.optedIn }),
        ...(o.name === undefined ? {} : { name: o.name }),
      });
      let self: Peer | undefined;
      const store = httpMediaStore(() => {
        if (!self) throw new Error('peer not ready');
        return self.mediaGrant();
      });
      self = await Peer.create({
        jid: o.jid,
        profile: o.profile,
        link,
        media: store,
        now: () => clock.now(),
        ...(o.name === undefined ? {} : { name: o.name }),
        ...(o.preKeyCount === undefined ? {} : { preKeyCount: o.preKeyCount }),
        ...(o.seed === undefined ? {} : { seed: o.seed }),
      });
      peers.push(self);
      if (o.uploadKeys !== false) await self.uploadKeys();
      return self;
    },
    async stop() {
      for (const p of peers) p.close();
      core.stop();
      await acceptor.close();
      await push.idle();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}
