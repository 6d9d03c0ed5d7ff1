// Media on the simulated server (PROFILE.md §5.13): upload grants (`media_conn`), blob storage on
// the server clock, and the two HTTP routes — upload to `/mms/<type>/<token>?auth=` and download
// by direct path. Blobs are opaque ciphertext to the server; it checks only their hash and shape.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaType } from '../crypto/media.ts';
import { MEDIA_MAC_LENGTH } from '../crypto/media.ts';
import type { Clock, MediaService, StoredBlob, TranscriptSink } from './types.ts';

export const MEDIA_GRANT_TTL_S = 3600;
export const MEDIA_MAX_BYTES = 100 * 1024 * 1024;
export const MEDIA_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
/** One AES block and the MAC: the shortest blob a sender can produce (PROFILE.md §8). */
const MIN_BLOB_BYTES = 16 + MEDIA_MAC_LENGTH;
const UPLOAD_TYPES: readonly MediaType[] = ['image', 'video', 'audio', 'document'];

/** The MediaService the HTTP side needs: the seam plus its limit and the host it is reached at. */
export interface HostedMediaService extends MediaService {
  readonly maxBytes: number;
  /** `host[:port]` as `media_conn` hands it out. */
  hostname(): string;
  /** A fresh direct path: `/v/<type>/` and 128 random bits. */
  newDirectPath(type: MediaType): string;
}

export interface MediaServiceOptions {
  readonly clock: Clock;
  /** `host[:port]`; a function when the port is known only once the server listens. */
  readonly host: string | (() => string);
  readonly ttlS?: number;
  readonly maxBytes?: number;
  readonly retentionDays?: number;
}

interface Grant {
  readonly jid: string;
  readonly expiresAt: number;
}

export function createMediaService(options: MediaServiceOptions): HostedMediaService {
  const { clock } = options;
  const ttlS = options.ttlS ?? MEDIA_GRANT_TTL_S;
  const retentionMs = (options.retentionDays ?? MEDIA_RETENTION_DAYS) * DAY_MS;
  const host = options.host;
  const hostname = typeof host === 'string' ? () => host : host;
  const grants = new Map<string, Grant>();
  const blobs = new Map<string, StoredBlob>();

  // Expired entries are dropped whenever something is added, so neither map grows without bound.
  function sweep(now: number): void {
    for (const [auth, g] of grants) if (g.expiresAt <= now) grants.delete(auth);
    for (const [path, b] of blobs) if (b.uploadedAt + retentionMs <= now) blobs.delete(path);
  }

  return {
    maxBytes: options.maxBytes ?? MEDIA_MAX_BYTES,
    hostname,
    newDirectPath: (type) => `/v/${type}/${randomBytes(16).toString('base64url')}`,
    grant(jid) {
      const now = clock.now();
      sweep(now);
      // 24 random bytes: 32 characters, the shape of the profile's example.
      const auth = randomBytes(24).toString('base64url');
      grants.set(auth, { jid, expiresAt: now + ttlS * 1000 });
      return { auth, ttl: ttlS, hosts: [hostname()] };
    },
    holder(auth) {
      const g = grants.get(auth);
      if (g === undefined) return undefined;
      if (g.expiresAt <= clock.now()) {
        grants.delete(auth);
        return undefined;
      }
      return g.jid;
    },
    put(directPath, blob) {
      sweep(clock.now());
      blobs.set(directPath, blob);
    },
    get(directPath) {
      const b = blobs.get(directPath);
      if (b === undefined) return undefined;
      if (b.uploadedAt + retentionMs <= clock.now()) {
        blobs.delete(directPath);
        return undefined;
      }
      return b;
    },
  };
}

/** base64url without padding of exactly 32 bytes, canonical (no stray bits in the last character). */
function isUploadToken(token: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
  return Buffer.from(token, 'base64url').toString('base64url') === token;
}

// ---- HTTP plumbing (shared with http.ts) ------------------------------------------------------

export type BodyRead =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly reason: 'too_large' | 'aborted' };

/**
 * Reads a request body, refusing it as soon as it passes `limit` bytes — from Content-Length
 * before reading anything, else at the chunk that crosses it. Nothing past the limit is kept;
 * the caller answers with `closeAfter` so the rest is never read either.
 */
export function readBodyLimited(
  req: IncomingMessage,
  limit: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<BodyRead> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.resolve({ ok: false, reason: 'too_large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (result: BodyRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      req.off('close', onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        req.pause();
        done({ ok: false, reason: 'too_large' });
        return;
      }
      chunks.push(chunk);
      onChunk?.(chunk);
    };
    const onEnd = () => done({ ok: true, bytes: Buffer.concat(chunks, total) });
    const onError = () => done({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
    // A client that goes away mid-body: 'close' without 'end'.
    req.on('close', onError);
  });
}

export interface SendOptions {
  /** Close the connection once the reply is out: used whenever the request body was not read. */
  readonly close?: boolean;
  readonly headers?: Record<string, string>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, opts: SendOptions = {}): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...opts.headers,
  };
  if (opts.close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text, () => {
    // Destroying rather than ending: an unread body must not be drained behind the reply.
    if (opts.close) res.socket?.destroy();
  });
}

// ---- routes -----------------------------------------------------------------------------------

export interface MediaHttpDeps {
  readonly media: HostedMediaService;
  readonly transcript: TranscriptSink;
  readonly clock: Clock;
}

/**
 * `POST /mms/<type>/<token>?auth=<auth>`. Checks in this order: auth (401), type and token (400),
 * size (413), blob shape (400), SHA-256 against the token (400) — credentials before anything
 * else, and the body is read only once the request could be stored.
 */
export async function handleMediaUpload(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: MediaHttpDeps,
): Promise<void> {
  const { media, transcript } = deps;
  const [, , type = '', token = ''] = url.pathname.split('/');
  // Every query parameter but the credential is recorded: what an app adds to the URL crosses
  // the network in the clear, so the privacy scenarios must be able to see it.
  const query = Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'auth'));
  const base = { type, token, ...(Object.keys(query).length > 0 ? { query } : {}) };
  const refuse = (status: number, error: string, address?: string, close = true) => {
    transcript.event({
      event: 'media_upload',
      ...(address === undefined ? {} : { address }),
      detail: { ...base, status, error },
    });
    sendJson(res, status, { error }, { close });
  };

  const auth = url.searchParams.get('auth');
  if (auth === null || auth === '') return refuse(401, 'auth_missing');
  const address = media.holder(auth);
  if (address === undefined) return refuse(401, 'auth_invalid');
  if (!(UPLOAD_TYPES as readonly string[]).includes(type)) return refuse(400, 'unknown_type', address);
  if (!isUploadToken(token)) return refuse(400, 'bad_token', address);

  const hash = createHash('sha256');
  const read = await readBodyLimited(req, media.maxBytes, (chunk) => hash.update(chunk));
  if (!read.ok) {
    if (read.reason === 'too_large') return refuse(413, 'too_large', address);
    res.socket?.destroy();
    return;
  }
  const blob = read.bytes;
  if (blob.length < MIN_BLOB_BYTES || (blob.length - MEDIA_MAC_LENGTH) % 16 !== 0) {
    return refuse(400, 'bad_length', address, false);
  }
  const actual = hash.digest();
  if (!timingSafeEqual(actual, Buffer.from(token, 'base64url'))) {
    const message = `SHA-256 of the ${blob.length}-byte body is ${actual.toString('base64url')}, the path token is ${token}`;
    transcript.event({
      event: 'media_upload',
      address,
      detail: { ...base, status: 400, error: 'hash_mismatch', bytes: blob.length },
      violations: [{ code: 'VIO_MEDIA_UPLOAD_HASH_MISMATCH', message }],
    });
    sendJson(res, 400, { error: 'hash_mismatch' });
    return;
  }

  const directPath = media.newDirectPath(type as MediaType);
  media.put(directPath, { bytes: blob, type, uploadedBy: address, uploadedAt: deps.clock.now() });
  transcript.event({
    event: 'media_upload',
    address,
    detail: { ...base, status: 200, bytes: blob.length, directPath },
  });
  sendJson(res, 200, { url: `http://${media.hostname()}${directPath}`, direct_path: directPath });
}

/** `GET <direct_path>`: the blob as stored, or 404 once it is unknown or past retention. */
export function handleMediaDownload(res: ServerResponse, url: URL, deps: MediaHttpDeps): void {
  const blob = deps.media.get(url.pathname);
  deps.transcript.event({
    event: 'media_download',
    detail: { directPath: url.pathname, status: blob === undefined ? 404 : 200 },
  });
  if (blob === undefined) {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.bytes.length });
  res.end(blob.bytes);
}
