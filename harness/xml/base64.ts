// Strict base64 for stanza bytes. Node's decoder accepts almost anything (whitespace, missing
// padding, stray characters, non-zero trailing bits); a conformance harness must not, or two
// byte-different stanzas would decode to the same content and transcripts would stop being
// byte-stable. Canonical means: re-encoding the decoded bytes gives back the same text
// (RFC 4648 §4 alphabet, padded, zero trailing bits, nothing else). The round trip runs in
// native code and is faster than a regular expression over long ciphertexts.

// The last few texts found canonical, with their decoded lengths. A stanza's bytes are checked
// twice over the same text (by the codec, then by a length format in the schema), and a string
// is a value, so remembering the answer for it can never go stale.
const RECENT = 4;
const recentText: (string | undefined)[] = new Array(RECENT).fill(undefined);
const recentLength: number[] = new Array(RECENT).fill(-1);
let recentNext = 0;

/** Decodes canonical base64, or returns undefined. */
export function decodeBase64(s: string): Uint8Array | undefined {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) return undefined;
  recentText[recentNext] = s;
  recentLength[recentNext] = b.byteLength;
  recentNext = (recentNext + 1) % RECENT;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Decoded length of canonical base64, or -1 if it is not canonical base64. */
export function base64Length(s: string): number {
  for (let i = 0; i < RECENT; i++) if (recentText[i] === s) return recentLength[i] as number;
  return decodeBase64(s)?.byteLength ?? -1;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
