// DSSE (Dead Simple Signing Envelope, v1): the signature covers the pre-authentication encoding
// PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in bytes as
// ASCII decimal, so the payload type is signed along with the payload and a signature cannot be
// replayed onto a document of another kind. Ed25519 through node:crypto.

import type { KeyObject } from 'node:crypto';
import { sign, verify } from 'node:crypto';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  readonly keyid: string;
  /** Base64 of the 64-byte Ed25519 signature. */
  readonly sig: string;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  /** Base64 of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

export function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  privateKey: KeyObject,
  keyid: string,
): DsseEnvelope {
  const sig = sign(null, pae(payloadType, payload), privateKey);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid, sig: sig.toString('base64') }],
  };
}

/** Strict base64 (the alphabet, padding only at the end), so no two texts decode to the same bytes. */
export function decodeBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/** True when one of the envelope's signatures with this key id verifies under `publicKey`. */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject, keyid: string): boolean {
  const payload = decodeBase64(envelope.payload);
  if (!payload) return false;
  const message = pae(envelope.payloadType, payload);
  return envelope.signatures.some((s) => {
    if (s.keyid !== keyid) return false;
    const sig = decodeBase64(s.sig);
    return sig !== null && sig.length === 64 && verify(null, message, publicKey, sig);
  });
}
