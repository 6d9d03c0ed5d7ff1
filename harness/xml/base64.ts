// Strict base64 for stanza bytes. Node's decoder accepts almost anything (whitespace, missing
// padding, stray characters); a conformance harness must not, or two byte-different stanzas
// would decode to the same content and transcripts would stop being byte-stable.

const CANONICAL_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decoded length of canonical base64 (RFC 4648 §4, padded, zero trailing bits), or -1. */
export function base64Length(s: string): number {
  if (!CANONICAL_B64.test(s)) return -1;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (pad > 0 && !zeroTrailingBits(s, pad)) return -1;
  return (s.length / 4) * 3 - pad;
}

/** Decodes canonical base64, or returns undefined. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (base64Length(s) < 0) return undefined;
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// With one '=' the last data character carries 2 unused bits; with two, 4 unused bits.
function zeroTrailingBits(s: string, pad: number): boolean {
  const last = ALPHABET.indexOf(s.charAt(s.length - pad - 1));
  const mask = pad === 1 ? 0b11 : 0b1111;
  return (last & mask) === 0;
}
