// Media encryption (docs/PROFILE.md §8, docs/MEDIA.md): the sender encrypts a file under a fresh
// mediaKey and uploads the blob; the receiver downloads it and makes its checks in a fixed order.
// The order is part of the profile, not an implementation detail: the enc hash is checked before
// the MAC so a corrupted download is told apart from a forgery, and the MAC before decryption so
// no unauthenticated ciphertext ever reaches the CBC padding check (a padding oracle).
//
// Every primitive comes from node:crypto; this module only composes them.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { ViolationCode } from '../codes.ts';

/** The `<type>` a blob is uploaded as; each has its own HKDF info. */
export type MediaType = 'image' | 'video' | 'audio' | 'document';

/** Every kind of media a message can carry; several share the keys of one MediaType. */
export type MediaKind = MediaType | 'sticker' | 'ptt' | 'gif' | 'image-thumbnail' | 'video-thumbnail';

export interface MediaKindInfo {
  /** HKDF info string the keys are derived with. */
  readonly info: string;
  /** The upload type, or null for thumbnails, which the profile carries inline (PROFILE.md §8.1). */
  readonly uploadType: MediaType | null;
  /** The mimetype a sender puts in the message when the file gives no better one. */
  readonly mimetype: string;
}

export const MEDIA_KINDS = {
  image: { info: 'WhatsApp Image Keys', uploadType: 'image', mimetype: 'image/jpeg' },
  sticker: { info: 'WhatsApp Image Keys', uploadType: 'image', mimetype: 'image/webp' },
  video: { info: 'WhatsApp Video Keys', uploadType: 'video', mimetype: 'video/mp4' },
  gif: { info: 'WhatsApp Video Keys', uploadType: 'video', mimetype: 'video/mp4' },
  // Plain audio defaults to Ogg/Opus like voice notes (a harness-profile choice, PROFILE.md §8.1):
  // one audio container keeps the candidate matrix small; senders may still declare audio/mpeg.
  audio: { info: 'WhatsApp Audio Keys', uploadType: 'audio', mimetype: 'audio/ogg; codecs=opus' },
  ptt: { info: 'WhatsApp Audio Keys', uploadType: 'audio', mimetype: 'audio/ogg; codecs=opus' },
  document: { info: 'WhatsApp Document Keys', uploadType: 'document', mimetype: 'application/pdf' },
  'image-thumbnail': { info: 'WhatsApp Image Thumbnail Keys', uploadType: null, mimetype: 'image/jpeg' },
  'video-thumbnail': { info: 'WhatsApp Video Thumbnail Keys', uploadType: null, mimetype: 'image/jpeg' },
} as const satisfies Record<MediaKind, MediaKindInfo>;

export const MEDIA_KIND_NAMES = Object.keys(MEDIA_KINDS) as MediaKind[];

export function isMediaKind(s: string): s is MediaKind {
  return Object.hasOwn(MEDIA_KINDS, s);
}

export const MEDIA_KEY_LENGTH = 32;
/** Bytes of HMAC-SHA256 kept at the end of the blob. */
export const MEDIA_MAC_LENGTH = 10;
const BLOCK = 16;
const HKDF_LENGTH = 112;

export interface MediaKeys {
  readonly iv: Buffer;
  readonly cipherKey: Buffer;
  readonly macKey: Buffer;
  /** Derived for completeness and the known-answer vector; the profile never uses it. */
  readonly refKey: Buffer;
}

function kindInfo(kind: MediaKind): MediaKindInfo {
  // Guards callers outside the type system (the CLI, JSON scenarios) against prototype keys.
  if (!isMediaKind(kind)) throw new RangeError(`unknown media kind: ${String(kind)}`);
  return MEDIA_KINDS[kind];
}

/** HKDF-SHA256(mediaKey, salt empty, info of the kind, 112 bytes), split as PROFILE.md §8.1. */
export function deriveMediaKeys(mediaKey: Uint8Array, kind: MediaKind): MediaKeys {
  // A key of the wrong length never comes from a well-formed message: the schema layer rejects it
  // (VIO_SCHEMA_BAD_LENGTH) before media is fetched, so here it is a caller bug.
  if (mediaKey.length !== MEDIA_KEY_LENGTH) {
    throw new RangeError(`mediaKey must be ${MEDIA_KEY_LENGTH} bytes, got ${mediaKey.length}`);
  }
  const okm = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), kindInfo(kind).info, HKDF_LENGTH));
  return {
    iv: okm.subarray(0, 16),
    cipherKey: okm.subarray(16, 48),
    macKey: okm.subarray(48, 80),
    refKey: okm.subarray(80, 112),
  };
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The 10-byte MAC a blob ends with: HMAC-SHA256(macKey, iv || ct) truncated. */
export function mediaMac(keys: MediaKeys, ct: Uint8Array): Buffer {
  return createHmac('sha256', keys.macKey).update(keys.iv).update(ct).digest().subarray(0, MEDIA_MAC_LENGTH);
}

export interface EncryptedMedia {
  readonly mediaKey: Buffer;
  /** ct || mac, what is uploaded. */
  readonly blob: Buffer;
  readonly fileSha256: Buffer;
  readonly fileEncSha256: Buffer;
  readonly fileLength: number;
}

/** Encrypts a file as a sender does; a fresh random mediaKey unless one is given (vectors, tests). */
export function encryptMedia(plaintext: Uint8Array, kind: MediaKind, mediaKey?: Uint8Array): EncryptedMedia {
  const key = mediaKey ? Buffer.from(mediaKey) : randomBytes(MEDIA_KEY_LENGTH);
  const keys = deriveMediaKeys(key, kind);
  const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const blob = Buffer.concat([ct, mediaMac(keys, ct)]);
  return {
    mediaKey: key,
    blob,
    fileSha256: sha256(plaintext),
    fileEncSha256: sha256(blob),
    fileLength: plaintext.length,
  };
}

export type MediaViolationCode = Extract<ViolationCode, `VIO_MEDIA_${string}`>;

/** The receiver's checks, in the order they are made. */
export const MEDIA_CHECKS = [
  'length',
  'fileEncSha256',
  'mac',
  'decrypt',
  'fileSha256',
  'fileLength',
] as const;
export type MediaCheck = (typeof MEDIA_CHECKS)[number];

const CHECK_CODE = {
  length: 'VIO_MEDIA_TRUNCATED',
  fileEncSha256: 'VIO_MEDIA_ENC_HASH_MISMATCH',
  mac: 'VIO_MEDIA_BAD_MAC',
  decrypt: 'VIO_MEDIA_DECRYPT_FAILED',
  fileSha256: 'VIO_MEDIA_PLAIN_HASH_MISMATCH',
  fileLength: 'VIO_MEDIA_LENGTH_MISMATCH',
} as const satisfies Record<MediaCheck, MediaViolationCode>;

export interface MediaExpectation {
  readonly kind: MediaKind;
  readonly mediaKey: Uint8Array;
  readonly fileEncSha256: Uint8Array;
  readonly fileSha256: Uint8Array;
  /** Checked only when the message carries it. */
  readonly fileLength?: number;
}

export type DecryptMediaResult =
  | { readonly ok: true; readonly plaintext: Buffer; readonly checks: readonly MediaCheck[] }
  | {
      readonly ok: false;
      readonly code: MediaViolationCode;
      readonly check: MediaCheck;
      readonly message: string;
      /** The checks that passed before this one failed. */
      readonly passed: readonly MediaCheck[];
    };

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * Makes the receiver's checks on a downloaded blob in the order of PROFILE.md §8.2 and stops at
 * the first that fails. Whatever the blob holds, the answer is a result, never an exception; only
 * a caller bug (a mediaKey that is not 32 bytes, a kind outside the table) throws a RangeError.
 */
export function decryptMedia(blob: Uint8Array, expect: MediaExpectation): DecryptMediaResult {
  const passed: MediaCheck[] = [];
  const fail = (check: MediaCheck, message: string): DecryptMediaResult => ({
    ok: false,
    code: CHECK_CODE[check],
    check,
    message,
    passed: [...passed],
  });
  const data = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);

  const ctLength = data.length - MEDIA_MAC_LENGTH;
  if (ctLength < BLOCK || ctLength % BLOCK !== 0) {
    return fail(
      'length',
      `blob is ${data.length} bytes; it must be a non-empty multiple of ${BLOCK} plus the ${MEDIA_MAC_LENGTH}-byte MAC`,
    );
  }
  passed.push('length');

  // Public values: a plain comparison leaks nothing an attacker does not already know.
  const encHash = sha256(data);
  if (!encHash.equals(expect.fileEncSha256)) {
    return fail(
      'fileEncSha256',
      `SHA-256 of the blob is ${hex(encHash)}, fileEncSha256 is ${hex(expect.fileEncSha256)}`,
    );
  }
  passed.push('fileEncSha256');

  const keys = deriveMediaKeys(expect.mediaKey, expect.kind);
  const ct = data.subarray(0, ctLength);
  const mac = data.subarray(ctLength);
  // The MAC is keyed: compare in constant time so a forger learns nothing byte by byte.
  if (!timingSafeEqual(mediaMac(keys, ct), mac)) {
    return fail('mac', `the ${MEDIA_MAC_LENGTH}-byte HMAC-SHA256 over iv and ciphertext does not match`);
  }
  passed.push('mac');

  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    plaintext = Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch (e) {
    return fail('decrypt', `AES-256-CBC decryption failed: ${(e as Error).message}`);
  }
  passed.push('decrypt');

  const plainHash = sha256(plaintext);
  if (!plainHash.equals(expect.fileSha256)) {
    return fail(
      'fileSha256',
      `SHA-256 of the file is ${hex(plainHash)}, fileSha256 is ${hex(expect.fileSha256)}`,
    );
  }
  passed.push('fileSha256');

  if (expect.fileLength !== undefined) {
    if (plaintext.length !== expect.fileLength) {
      return fail('fileLength', `the file is ${plaintext.length} bytes, fileLength is ${expect.fileLength}`);
    }
    passed.push('fileLength');
  }
  return { ok: true, plaintext, checks: passed };
}

/** The token an upload URL is built from: fileEncSha256 in unpadded base64url (PROFILE.md §8.3). */
export function uploadToken(fileEncSha256: Uint8Array): string {
  return Buffer.from(fileEncSha256).toString('base64url');
}
