// The seams of the simulated server: what the transports, the HTTP side and the stanza core
// each need from the others. Small interfaces, so each part is testable alone and the
// in-process and real-socket forms share every line above the transport.

import type { ViolationCode } from '../codes.ts';
import type { SignedPreKeyPublic } from '../crypto/profile.ts';
import type { Direction } from '../schema/kinds.ts';

// ---- time -------------------------------------------------------------------------------------

/** The server's clock: virtual, so "30 days later" takes no time (PROFILE.md §5.6, §9). */
export interface Clock {
  /** Milliseconds since the epoch, server time. */
  now(): number;
  /** Whole seconds since the epoch: what `t` attributes carry. */
  seconds(): number;
}

// ---- transport --------------------------------------------------------------------------------

/**
 * One client connection as the transport sees it: frames in, frames out, a close. The
 * WebSocket transport (ws) and the in-process one (mock-socket) both provide this.
 */
export interface FrameChannel {
  /** A short id for transcripts, e.g. `c7`. */
  readonly id: string;
  readonly remoteAddress: string;
  send(text: string): void;
  /** Closes with a WebSocket close code (1000, 1003, 1008, 1009, 1011) and a short reason. */
  close(code: number, reason: string): void;
  onFrame(handler: (data: Buffer, isBinary: boolean) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
  /**
   * Writes the head of a text frame that announces `announced` payload bytes, then only
   * `prefix`, then nothing more on this channel (a hostile server's oversized frame). A client
   * that enforces its frame limit closes at once; one that buffers whole frames waits. Only
   * transports with a real socket have it.
   */
  sendTruncatedFrame?(announced: number, prefix: Buffer): void;
}

/** Accepts connections; the core registers one handler. */
export interface ChannelAcceptor {
  onChannel(handler: (channel: FrameChannel) => void): void;
}

// ---- accounts ---------------------------------------------------------------------------------

/** A third-party (interop) user, created by enlistment (PROFILE.md §5.1). */
export interface InteropAccount {
  readonly jid: string;
  /** The partner's user id (the JWT `sub`). */
  readonly sub: string;
  readonly authKey: Uint8Array;
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyPublic;
  /** Server time of enlistment and of the last successful login, milliseconds. */
  readonly enlistedAt: number;
  lastLoginAt: number;
}

export type EnlistResult =
  | { readonly status: 'ok'; readonly login: string }
  | {
      readonly status: 'fail';
      readonly reason: 'bad_request' | 'bad_key_type' | 'bad_signature' | 'bad_token' | 'rate_limited';
      /** For the transcript and the vendor: which field or check failed. */
      readonly detail: string;
    };

/** Parsed, length-checked enlistment fields (PROFILE.md §5.1 step 2). */
export interface EnlistFields {
  readonly authKey: Uint8Array;
  readonly keyType: number;
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyPublic;
  readonly token: string;
}

/** What the core does on an enlistment the HTTP side has parsed and whose token it verified. */
export interface Enlister {
  enlist(fields: EnlistFields, sub: string): EnlistResult;
}

// ---- partner tokens ---------------------------------------------------------------------------

export type TokenCheck =
  | { readonly ok: true; readonly sub: string }
  | { readonly ok: false; readonly detail: string };

/** Verifies partner JWTs against the test partner's JWKS (PROFILE.md §5.1 step 3). */
export interface TokenVerifier {
  verify(token: string): Promise<TokenCheck>;
}

// ---- media ------------------------------------------------------------------------------------

export interface StoredBlob {
  readonly bytes: Uint8Array;
  readonly type: string;
  readonly uploadedBy: string;
  readonly uploadedAt: number;
}

/** Media grants and blobs (PROFILE.md §5.13). */
export interface MediaService {
  /** Issues a grant for `jid`: the auth token and hosts `media_conn` returns. */
  grant(jid: string): { auth: string; ttl: number; hosts: readonly string[] };
  /** The address a grant's auth token belongs to, if it is valid now. */
  holder(auth: string): string | undefined;
  put(directPath: string, blob: StoredBlob): void;
  get(directPath: string): StoredBlob | undefined;
}

// ---- transcript -------------------------------------------------------------------------------

export interface FrameEntry {
  readonly kind: 'frame';
  readonly seq: number;
  readonly direction: Direction;
  /** Server time, milliseconds. */
  readonly clock: number;
  readonly connection: string;
  /** The address logged in on the connection, when there is one. */
  readonly address?: string;
  /** Canonical stanza text, or the raw frame (truncated) when it did not parse. */
  readonly stanza: string;
  readonly bytes: number;
  readonly violations: readonly { code: ViolationCode; pointer: string; message: string }[];
}

/** Anything else worth a line: an enlistment, a push, a close, a fault knob that fired. */
export interface EventEntry {
  readonly kind: 'event';
  readonly seq: number;
  readonly clock: number;
  readonly event: string;
  readonly connection?: string;
  readonly address?: string;
  readonly detail?: Record<string, unknown>;
  readonly violations?: readonly { code: ViolationCode; message: string }[];
}

export type TranscriptEntry = FrameEntry | EventEntry;

export interface TranscriptSink {
  frame(entry: Omit<FrameEntry, 'kind' | 'seq' | 'clock'>): FrameEntry;
  event(entry: Omit<EventEntry, 'kind' | 'seq' | 'clock'>): EventEntry;
}
