// Strict base64 for stanza bytes. Node's decoder accepts almost anything (whitespace, missing
// padding, stray characters, non-zero trailing bits); a conformance harness must not, or two
// byte-different stanzas would decode to the same content and transcripts would stop being
// byte-stable. Canonical means: re-encoding the decoded bytes gives back the same text
// (RFC 4648 §4 alphabet, padded, zero trailing bits, nothing else). The round trip runs in
// native code and is faster than a regular expression over long ciphertexts.

/** Decodes canonical base64, or returns undefined. */
export function decodeBase64(s: string): Uint8Array | undefined {
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) return undefined;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Decoded length of canonical base64, or -1 if it is not canonical base64. */
export function base64Length(s: string): number {
  return decodeBase64(s)?.byteLength ?? -1;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
