// Signature checks on public key material, for the server's key directory and enlistment:
// XEdDSA by a Curve25519 identity key (docs/PROFILE.md §5.3). libsignal-client does the
// curve work; the harness only frames the inputs.

import { PublicKey } from '@signalapp/libsignal-client';
import type { KyberPreKeyPublic, SignedPreKeyPublic } from './profile.ts';

const DJB = 0x05;

function identityPublicKey(identityKey: Uint8Array): PublicKey | undefined {
  if (identityKey.length !== 32) return undefined;
  try {
    return PublicKey.deserialize(Uint8Array.from([DJB, ...identityKey]));
  } catch {
    return undefined;
  }
}

function verify(identityKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = identityPublicKey(identityKey);
  if (!key || signature.length !== 64) return false;
  try {
    return key.verify(Uint8Array.from(message), Uint8Array.from(signature));
  } catch {
    return false;
  }
}

/** The signed prekey's signature: XEdDSA over 0x05 || publicKey. */
export function verifySignedPreKey(identityKey: Uint8Array, spk: SignedPreKeyPublic): boolean {
  if (spk.publicKey.length !== 32) return false;
  return verify(identityKey, Uint8Array.from([DJB, ...spk.publicKey]), spk.signature);
}

/** The Kyber prekey's signature: XEdDSA over the serialised key (with its type byte). */
export function verifyKyberPreKey(identityKey: Uint8Array, kyber: KyberPreKeyPublic): boolean {
  return verify(identityKey, kyber.publicKey, kyber.signature);
}
