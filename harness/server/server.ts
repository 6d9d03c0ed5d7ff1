// The simulated WhatsApp interop server, assembled: one loopback port serving HTTP
// (enlistment, push key set, media) and the chat WebSocket, the stanza core behind both, a
// virtual clock, a transcript, the test partner, and a way to attach the harness's WhatsApp
// users. Scenarios, `interop-cert serve` and the tests all start it through `startServer`.

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

export interface ServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** Seeds the test partner's and the push keys, so a seeded run publishes the same JWKS. */
  readonly seed?: string;
  readonly clock?: ClockOptions;
  /** Stream the transcript to this JSONL file as it happens. */
  readonly transcriptFile?: string;
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
  /** Attaches a WhatsApp user in-process (logged in, media over the server's HTTP). */
  attachPeer(options: NativePeerOptions): Promise<Peer>;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const clock = new VirtualClock(options.clock);
  const transcript = new Transcript(clock, options.transcriptFile ? { file: options.transcriptFile } : {});
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
  const http = createServer(handler);
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
