// Plaintext padding (docs/PROFILE.md §7.3, docs/CONTENT.md): before encryption the sender
// appends N bytes, each of value N, 1 <= N <= 16, so a ciphertext's length hides the exact length
// of short messages. The receiver makes every check the profile requires, more than some
// WhatsApp Web clients make (one only strips N bytes): padding those clients would swallow is
// still caught here.
//
// The check runs on plaintext the Signal layer has already authenticated, so how long it takes
// reveals nothing an attacker could not read off the ciphertext's length: no constant-time code.

import { randomInt } from 'node:crypto';
import { HarnessError } from '../codes.ts';
import type { ContentViolationCode, MessageContent } from './content.ts';
import { decodeContent, encodeContent } from './content.ts';

export const MIN_PADDING = 1;
export const MAX_PADDING = 16;

export type UnpadResult =
  | { readonly ok: true; readonly value: Uint8Array }
  | { readonly ok: false; readonly code: 'VIO_CONTENT_BAD_PADDING'; readonly message: string };

export type DecodePlaintextResult =
  | { readonly ok: true; readonly content: MessageContent }
  | { readonly ok: false; readonly code: ContentViolationCode; readonly message: string };

/**
 * `bytes` followed by `n` bytes of value `n`. `n` is drawn uniformly from 1..16 unless given;
 * pass it for known answers and deterministic tests. Throws HRN_ERR_INTERNAL for an `n` outside
 * 1..16. Padding empty bytes is allowed (a negative test needs it) and gives what unpad rejects.
 */
export function pad(bytes: Uint8Array, n: number = randomInt(MIN_PADDING, MAX_PADDING + 1)): Uint8Array {
  if (!Number.isInteger(n) || n < MIN_PADDING || n > MAX_PADDING) {
    throw new HarnessError(
      'HRN_ERR_INTERNAL',
      `padding length ${n} is not an integer ${MIN_PADDING}..${MAX_PADDING}`,
    );
  }
  const out = new Uint8Array(bytes.length + n);
  out.set(bytes);
  out.fill(n, bytes.length);
  return out;
}

const bad = (message: string): UnpadResult => ({ ok: false, code: 'VIO_CONTENT_BAD_PADDING', message });

/**
 * Strips and checks the padding. Rejects, as PROFILE.md §7.3 says: empty input, a last byte N of
 * 0 or above 16, input of N bytes or fewer (the profile wants N < length: padding alone is not a
 * message), and any of the last N bytes other than N. The value is a copy.
 */
export function unpad(bytes: Uint8Array): UnpadResult {
  const length = bytes.length;
  if (length === 0) return bad('the plaintext is empty');
  const n = bytes[length - 1] as number;
  if (n < MIN_PADDING || n > MAX_PADDING) {
    return bad(`the last byte is ${n}; padding is ${MIN_PADDING} to ${MAX_PADDING} bytes`);
  }
  if (length <= n) return bad(`${length} bytes cannot hold ${n} bytes of padding and a message`);
  for (let i = length - n; i < length - 1; i++) {
    if (bytes[i] !== n) return bad(`padding byte ${i} is ${bytes[i]}, not ${n}`);
  }
  return { ok: true, value: bytes.slice(0, length - n) };
}

/** encodeContent, then pad: the plaintext to hand to the Signal layer. */
export function encodePlaintext(content: MessageContent, n?: number): Uint8Array {
  return pad(encodeContent(content), n);
}

/** unpad, then decodeContent: each failure with its own code. Never throws for any input. */
export function decodePlaintext(bytes: Uint8Array): DecodePlaintextResult {
  const unpadded = unpad(bytes);
  if (!unpadded.ok) return unpadded;
  return decodeContent(unpadded.value);
}
