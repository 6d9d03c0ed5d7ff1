// An in-memory candidate for unit tests of whatever drives one (the scenario engine, the CLI):
// it keeps an event log with real long-poll behaviour, records every call, and lets a test
// play the app's side with `emit` (a message shown, a rejection, a receipt). It speaks no
// protocol: nothing reaches a server. `serveFakeCandidate` puts it behind a real HTTP port.

import { randomBytes } from 'node:crypto';
import type {
  BlockRequest,
  CandidateDriver,
  ConnectRequest,
  DriverEvent,
  Endpoint,
  EventsResponse,
  Manifest,
  OkResponse,
  ReadRequest,
  SendRequest,
  SendResponse,
  TypingRequest,
} from '../contract.ts';
import { DRIVER_CONTRACT_VERSION } from '../contract.ts';
import { CandidateError } from '../errors.ts';
import type { DriverServer, ServeDriverOptions } from '../serve.ts';
import { serveDriver } from '../serve.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as a test emits it: the log assigns `seq`, and `at` unless given. */
export type EventInput = DistributiveOmit<DriverEvent, 'seq' | 'at'> & { readonly at?: number };

export interface FakeCall {
  readonly endpoint: Endpoint;
  readonly request?: unknown;
}

export interface FakeCandidateOptions {
  /** Replaces members of the default manifest (all features, signal-x3dh, this contract version). */
  readonly manifest?: Partial<Manifest>;
  /** Emit `message-sent` right after each send, as if the server acked at once. Default true. */
  readonly autoSent?: boolean;
  /** Wall clock for `at`. Default Date.now. */
  readonly now?: () => number;
}

export interface FakeCandidate extends CandidateDriver {
  readonly calls: readonly FakeCall[];
  /** The event log since the last reset. */
  readonly log: readonly DriverEvent[];
  /** The address after connect; undefined when not connected. */
  readonly jid: string | undefined;
  readonly blocked: ReadonlySet<string>;
  /** Appends to the event log and wakes waiting long-polls. */
  emit(event: EventInput): DriverEvent;
  /** The next call of `endpoint` throws `error` (default: 500 `internal`). */
  failNext(endpoint: Endpoint, error?: Error): void;
  /** Answers every waiting long-poll now, so a test can end without waiting them out. */
  release(): void;
}

export function createFakeCandidate(options: FakeCandidateOptions = {}): FakeCandidate {
  const now = options.now ?? Date.now;
  const manifest: Manifest = {
    name: 'fake-candidate',
    version: '0.0.0',
    contractVersion: DRIVER_CONTRACT_VERSION,
    cryptoProfile: 'signal-x3dh',
    features: ['send-media', 'send-voice', 'reactions-send', 'read-receipts-send', 'typing-send', 'presence'],
    ...options.manifest,
  };
  const calls: FakeCall[] = [];
  let log: DriverEvent[] = [];
  let jid: string | undefined;
  const blocked = new Set<string>();
  const failures = new Map<Endpoint, Error[]>();
  const waiters = new Set<() => void>();
  const ok: OkResponse = { ok: true };

  const enter = (endpoint: Endpoint, request?: unknown) => {
    calls.push(request === undefined ? { endpoint } : { endpoint, request });
    const failure = failures.get(endpoint)?.shift();
    if (failure) throw failure;
  };
  const needConnection = (what: string) => {
    if (!jid)
      throw new CandidateError('not_connected', `${what} needs a connection: call connect first`, 409);
  };
  const wake = () => {
    for (const w of [...waiters]) w();
  };

  const fake: FakeCandidate = {
    get calls() {
      return calls;
    },
    get log() {
      return log;
    },
    get jid() {
      return jid;
    },
    blocked,
    emit(input) {
      const event = { ...input, seq: log.length + 1, at: input.at ?? now() } as DriverEvent;
      log.push(event);
      wake();
      return event;
    },
    failNext(endpoint, error = new Error('injected failure')) {
      failures.set(endpoint, [...(failures.get(endpoint) ?? []), error]);
    },
    release: wake,

    async manifest() {
      enter('manifest');
      return manifest;
    },
    async reset() {
      enter('reset');
      log = [];
      jid = undefined;
      blocked.clear();
      wake();
      return ok;
    },
    async connect(req: ConnectRequest) {
      enter('connect', req);
      if (jid) throw new CandidateError('already_connected', `already connected as ${jid}`, 409);
      jid = `1-${req.partner.sub}@interop`;
      fake.emit({ type: 'connection', state: 'connected' });
      return { jid };
    },
    async disconnect() {
      enter('disconnect');
      if (jid) {
        jid = undefined;
        fake.emit({ type: 'connection', state: 'disconnected', reason: 'requested' });
      }
      return ok;
    },
    async send(req: SendRequest): Promise<SendResponse> {
      enter('send', req);
      needConnection('send');
      const id = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
      if (options.autoSent ?? true) fake.emit({ type: 'message-sent', id, to: req.to });
      return { id };
    },
    async read(req: ReadRequest) {
      enter('read', req);
      needConnection('read');
      return ok;
    },
    async typing(req: TypingRequest) {
      enter('typing', req);
      needConnection('typing');
      return ok;
    },
    async block(req: BlockRequest) {
      enter('block', req);
      needConnection('block');
      blocked.add(req.jid);
      return ok;
    },
    async unblock(req: BlockRequest) {
      enter('unblock', req);
      needConnection('unblock');
      blocked.delete(req.jid);
      return ok;
    },
    async events(after: number, waitMs: number): Promise<EventsResponse> {
      enter('events', { after, wait: waitMs });
      if (log.length <= after && waitMs > 0) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, waitMs);
          waiters.add(done);
        });
      }
      const events = log.slice(after);
      return { events, last: events.at(-1)?.seq ?? log.length };
    },
  };
  return fake;
}

export interface ServedFake {
  readonly fake: FakeCandidate;
  readonly server: DriverServer;
  /** The base URL to give createHttpDriver. */
  readonly url: string;
  close(): Promise<void>;
}

/** A fake candidate behind a real HTTP port on 127.0.0.1. */
export async function serveFakeCandidate(
  options: FakeCandidateOptions & ServeDriverOptions = {},
): Promise<ServedFake> {
  const fake = createFakeCandidate(options);
  const server = await serveDriver(fake, options);
  return {
    fake,
    server,
    url: server.url,
    async close() {
      fake.release();
      await server.close();
    },
  };
}
