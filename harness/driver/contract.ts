// The driver contract, version 1: the small control API a candidate serves so the harness can
// drive it (BoGo's shim, test262's INTERPRETING.md). HTTP+JSON, language-neutral; these types
// are the TypeScript view of the JSON Schemas in schemas/driver/, which are authoritative
// (docs/DRIVER.md explains every endpoint). The reference candidate and the harness's driver
// client both use these types, so a drift between them fails type-checking.

import type { CryptoProfileId } from '../crypto/profile.ts';
import type { Feature } from '../requirements/types.ts';

/** Bumped on any incompatible change; every manifest names the version it implements. */
export const DRIVER_CONTRACT_VERSION = '1.0';

export type { CryptoProfileId, Feature };

// ---- GET /v1/manifest ---------------------------------------------------------------------------

export interface Manifest {
  readonly name: string;
  readonly version: string;
  /** The driver contract version the candidate implements, e.g. "1.0". */
  readonly contractVersion: string;
  readonly cryptoProfile: CryptoProfileId;
  /** Optional capabilities the candidate has (docs/REQUIREMENTS.md lists them). */
  readonly features: readonly Feature[];
  readonly vendor?: string;
}

// ---- POST /v1/reset, /v1/connect, /v1/disconnect -------------------------------------------------

/** Back to a clean install: no keys, no sessions, no messages, no events. */
export type ResetRequest = Record<string, never>;

export interface ConnectRequest {
  /** The server's HTTP base URL (enlistment, media). */
  readonly httpUrl: string;
  /** The chat WebSocket URL. */
  readonly wsUrl: string;
  readonly partner: {
    /** The partner's user id to enlist as (1 to 20 digits): the address becomes 1-{sub}@interop. */
    readonly sub: string;
    /**
     * Where the candidate's partner backend gets a fresh token for `sub`:
     * `POST tokenUrl` with `{"sub": "..."}` answers `{"token": "<JWT>"}`.
     */
    readonly tokenUrl: string;
  };
}

export interface ConnectResponse {
  /** The address the candidate logged in as. */
  readonly jid: string;
}

export type DisconnectRequest = Record<string, never>;

// ---- POST /v1/send -------------------------------------------------------------------------------

/** Names of the media files every candidate ships or fetches (fixtures/media/). */
export type MediaFixture = 'photo.jpg' | 'voice.ogg' | 'clip.mp4' | 'document.pdf' | 'random.bin';

export type MediaInput =
  | { readonly base64: string; readonly mimetype?: string }
  | { readonly fixture: MediaFixture; readonly mimetype?: string };

export type SendContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'reply'; readonly text: string; readonly quotedId: string }
  | { readonly type: 'image'; readonly media: MediaInput; readonly caption?: string }
  | { readonly type: 'voice'; readonly media: MediaInput; readonly seconds?: number }
  | { readonly type: 'audio'; readonly media: MediaInput; readonly seconds?: number }
  | {
      readonly type: 'video';
      readonly media: MediaInput;
      readonly caption?: string;
      readonly seconds?: number;
    }
  | { readonly type: 'document'; readonly media: MediaInput; readonly fileName?: string }
  | { readonly type: 'reaction'; readonly targetId: string; readonly emoji: string }
  | { readonly type: 'reaction-revoke'; readonly targetId: string };

export type SendContentType = SendContent['type'];

export interface SendRequest {
  readonly to: string;
  readonly content: SendContent;
}

export interface SendResponse {
  /** The stanza id the candidate used. */
  readonly id: string;
}

// ---- POST /v1/read, /v1/typing, /v1/block, /v1/unblock ------------------------------------------

export interface ReadRequest {
  /** The chat: whose messages the user saw (or played). */
  readonly from: string;
  readonly ids: readonly string[];
  /** `played` for voice notes; `read` by default. */
  readonly type?: 'read' | 'played';
}

export interface TypingRequest {
  readonly to: string;
  readonly state: 'composing' | 'paused';
  readonly media?: 'audio';
}

export interface BlockRequest {
  readonly jid: string;
}

/** The answer of every POST without a result of its own. */
export interface OkResponse {
  readonly ok: true;
}

// ---- GET /v1/events?after=N&wait=MS --------------------------------------------------------------

/** Why the app refused a message: the reason a user-facing app has, not a library's message. */
export type RejectReason =
  | 'duplicate'
  | 'tampered'
  | 'untrusted-identity'
  | 'invalid-message'
  | 'unsupported-version'
  | 'no-session'
  | 'missing-prekey'
  | 'bad-padding'
  | 'invalid-protobuf'
  | 'unsupported-content'
  | 'media-truncated'
  | 'media-enc-hash'
  | 'media-mac'
  | 'media-decrypt'
  | 'media-plain-hash'
  | 'media-length'
  | 'media-download'
  | 'other';

/** What the user sees of a received message: enough to compare exactly, nothing secret. */
export interface ReceivedContent {
  readonly type: SendContentType | 'revoke';
  readonly text?: string;
  readonly caption?: string;
  readonly quotedId?: string;
  readonly targetId?: string;
  readonly emoji?: string;
  readonly fileName?: string;
  readonly seconds?: number;
  readonly media?: {
    /** SHA-256 of the decrypted file, lower-case hex. */
    readonly sha256: string;
    readonly mimetype: string;
    readonly size: number;
  };
}

interface EventBase {
  /** Position in the candidate's event log, from 1, without gaps. */
  readonly seq: number;
  /** Wall-clock milliseconds since the epoch. */
  readonly at: number;
}

export type DriverEvent = EventBase &
  (
    | {
        readonly type: 'connection';
        readonly state: 'connected' | 'disconnected' | 'failed';
        readonly reason?: string;
      }
    | {
        readonly type: 'message-received';
        readonly id: string;
        readonly from: string;
        readonly content: ReceivedContent;
        readonly offline?: boolean;
      }
    | {
        readonly type: 'message-rejected';
        readonly id?: string;
        readonly from?: string;
        readonly reason: RejectReason;
      }
    | { readonly type: 'message-sent'; readonly id: string; readonly to: string }
    | { readonly type: 'send-failed'; readonly id: string; readonly to: string; readonly reason: string }
    | {
        readonly type: 'receipt-received';
        readonly from: string;
        readonly receipt: 'delivery' | 'read' | 'played';
        readonly ids: readonly string[];
      }
    | { readonly type: 'security-notice'; readonly jid: string }
    | {
        readonly type: 'typing';
        readonly from: string;
        readonly state: 'composing' | 'paused';
        readonly media?: 'audio';
      }
  );

export type DriverEventType = DriverEvent['type'];

export interface EventsResponse {
  readonly events: readonly DriverEvent[];
  /** Pass as `after` next time. */
  readonly last: number;
}

// ---- errors ------------------------------------------------------------------------------------

/** Every non-2xx answer: `{"error": {"code": "...", "message": "..."}}`. */
export interface ErrorResponse {
  readonly error: { readonly code: string; readonly message: string };
}

/** The endpoints, for clients and servers of the contract. */
export const ENDPOINTS = {
  manifest: { method: 'GET', path: '/v1/manifest' },
  reset: { method: 'POST', path: '/v1/reset' },
  connect: { method: 'POST', path: '/v1/connect' },
  disconnect: { method: 'POST', path: '/v1/disconnect' },
  send: { method: 'POST', path: '/v1/send' },
  read: { method: 'POST', path: '/v1/read' },
  typing: { method: 'POST', path: '/v1/typing' },
  block: { method: 'POST', path: '/v1/block' },
  unblock: { method: 'POST', path: '/v1/unblock' },
  events: { method: 'GET', path: '/v1/events' },
} as const;

export type Endpoint = keyof typeof ENDPOINTS;

/** The driver contract as an interface: the HTTP client and the in-process adapter both give it. */
export interface CandidateDriver {
  manifest(): Promise<Manifest>;
  reset(): Promise<OkResponse>;
  connect(req: ConnectRequest): Promise<ConnectResponse>;
  disconnect(): Promise<OkResponse>;
  send(req: SendRequest): Promise<SendResponse>;
  read(req: ReadRequest): Promise<OkResponse>;
  typing(req: TypingRequest): Promise<OkResponse>;
  block(req: BlockRequest): Promise<OkResponse>;
  unblock(req: BlockRequest): Promise<OkResponse>;
  events(after: number, waitMs: number): Promise<EventsResponse>;
}
