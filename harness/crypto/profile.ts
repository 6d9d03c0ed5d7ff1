// The crypto profile interface: one shape for current Signal (PQXDH, v4, libsignal-client)
// and WhatsApp's classic Signal (X3DH, v3, the `libsignal` package), so peers, the server and
// scenarios never branch on the library underneath. See docs/PROFILE.md §6.

import type { ViolationCode } from '../codes.ts';
import type { CryptoProfileId } from '../requirements/types.ts';

export type { CryptoProfileId };

/** Public keys travel raw: 32 bytes, with the key type (0x05) sent separately. */
export interface PreKeyPublic {
  readonly id: number;
  readonly publicKey: Uint8Array;
}

export interface SignedPreKeyPublic extends PreKeyPublic {
  /** XEdDSA signature by the identity key over 0x05 || publicKey. 64 bytes. */
  readonly signature: Uint8Array;
}

/** signal-pqxdh only: a Kyber-1024 prekey, public key with its 1-byte type prefix (1569 bytes). */
export interface KyberPreKeyPublic extends PreKeyPublic {
  readonly signature: Uint8Array;
}

/** What one user uploads to the key directory (`iq encrypt` set). */
export interface KeyUpload {
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyPublic;
  readonly preKeys: readonly PreKeyPublic[];
  readonly kyberPreKey?: KyberPreKeyPublic;
}

/** What the directory hands out for one user: at most one one-time prekey, maybe none. */
export interface PublicBundle {
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKeyPublic;
  readonly preKey?: PreKeyPublic;
  readonly kyberPreKey?: KyberPreKeyPublic;
}

export type CiphertextType = 'pkmsg' | 'msg';

export interface Ciphertext {
  readonly type: CiphertextType;
  readonly bytes: Uint8Array;
}

/** What a ciphertext shows without decrypting it: the observable ratchet state. */
export interface Inspection {
  /** Message version from the first byte's high nibble: 3 (X3DH) or 4 (PQXDH). */
  readonly version: number;
  readonly type: CiphertextType;
  /** The sender's current ratchet public key (32 bytes): must change every turn. */
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  readonly previousCounter: number;
  /** First messages only. */
  readonly registrationId?: number;
  readonly baseKey?: Uint8Array;
  readonly identityKey?: Uint8Array;
  readonly preKeyId?: number;
  readonly signedPreKeyId?: number;
  readonly kyberPreKeyId?: number;
}

export type CryptoViolationCode = Extract<ViolationCode, `VIO_CRYPTO_${string}`>;

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: CryptoViolationCode; readonly message: string };

/** Opaque, structured-cloneable copy of every store of one identity. */
export interface StoreSnapshot {
  readonly profile: CryptoProfileId;
  readonly data: unknown;
}

/** One user's keys and sessions (the interop profile gives each user exactly one device). */
export interface CryptoIdentity {
  readonly profile: CryptoProfileId;
  readonly registrationId: number;
  /** Raw 32-byte identity public key. */
  readonly identityKey: Uint8Array;
  /** Everything to upload at first login: identity, signed prekey, one-time prekeys (and Kyber). */
  keyUpload(): KeyUpload;
  /** Fresh one-time prekeys for a top-up; ids continue and never repeat. */
  generatePreKeys(count: number): Promise<readonly PreKeyPublic[]>;
  /** A new signed prekey (and Kyber prekey where the profile has one); the previous stays usable. */
  rotateSignedPreKey(): Promise<{ signedPreKey: SignedPreKeyPublic; kyberPreKey?: KyberPreKeyPublic }>;
  /** Builds a session to `address` from a fetched bundle. Fails on a bad signature. */
  processBundle(address: string, bundle: PublicBundle): Promise<Outcome<void>>;
  hasSession(address: string): Promise<boolean>;
  deleteSession(address: string): Promise<void>;
  encrypt(address: string, plaintext: Uint8Array): Promise<Ciphertext>;
  decrypt(address: string, ciphertext: Ciphertext): Promise<Outcome<Uint8Array>>;
  /** The identity key on record for `address`, if any. */
  knownIdentity(address: string): Promise<Uint8Array | undefined>;
  /** Accepts a changed identity for `address` (after showing the security notice); drops its session. */
  trustIdentity(address: string, identityKey: Uint8Array): Promise<void>;
  snapshot(): Promise<StoreSnapshot>;
  restore(snapshot: StoreSnapshot): Promise<void>;
}

export interface IdentityOptions {
  /** Registration id (full uint32 range accepted); random when absent. */
  readonly registrationId?: number;
  /** One-time prekeys generated up front (the profile uploads 812 at first; tests use fewer). */
  readonly preKeyCount?: number;
  /** First one-time prekey id (3-byte ids: 1..0xFFFFFF). */
  readonly firstPreKeyId?: number;
  readonly signedPreKeyId?: number;
}

export interface CryptoProfile {
  readonly id: CryptoProfileId;
  /** The message version this profile sends and accepts: 3 or 4. */
  readonly messageVersion: 3 | 4;
  createIdentity(options?: IdentityOptions): Promise<CryptoIdentity>;
  inspect(ciphertext: Ciphertext): Outcome<Inspection>;
}
