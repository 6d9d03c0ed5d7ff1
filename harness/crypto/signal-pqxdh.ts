// signal-pqxdh: current Signal (PQXDH with a Kyber-1024 prekey, message version 4, byte 0x44)
// on @signalapp/libsignal-client (docs/PROFILE.md §6, docs/CRYPTO.md).
//
// The library does the protocol; the wrapper adds the profile's checks around it: the version
// byte and structure before the library sees a ciphertext, the refusal of a bundle without a
// Kyber prekey (no fallback to X3DH), the record of accepted first messages, and one code per
// failure.

import {
  CiphertextMessageType,
  ErrorCode,
  IdentityKeyPair,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  LibSignalErrorBase,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  processPreKeyBundle,
  SignalMessage,
  SignedPreKeyRecord,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { HarnessError } from '../codes.ts';
import type { LibraryAddress } from './address.ts';
import { toLibraryAddress } from './address.ts';
import { checkBundleLengths, MAX_PREKEY_ID, PUBLIC_KEY_LENGTH } from './bundle.ts';
import { inspectCiphertext, parseForProfile } from './inspect.ts';
import type {
  Ciphertext,
  CryptoIdentity,
  CryptoProfile,
  CryptoViolationCode,
  IdentityOptions,
  KeyUpload,
  KyberPreKeyPublic,
  Outcome,
  PreKeyPublic,
  PublicBundle,
  SignedPreKeyPublic,
  StoreSnapshot,
} from './profile.ts';
import {
  bytesEqual,
  copyBytes,
  FirstMessageLedger,
  IdentityBook,
  randomRegistrationId,
  SerialQueue,
  withType,
} from './stores/common.ts';
import {
  MemoryIdentityStore,
  MemoryKyberPreKeyStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
} from './stores/pqxdh.ts';

export const PQXDH_VERSION_BYTE = 0x44;

// libsignal-client takes devices 1..127 only; a JID's device starts at 0 (docs/PROFILE.md §3).
const DEVICE_OFFSET = 1;
const MAX_LIBRARY_DEVICE = 127;

// Encrypt and decrypt want the local address too; it is not part of any key derivation (the
// library uses it in its logs), and an identity here does not know its own JID.
const LOCAL_ADDRESS = ProtocolAddress.new('self', 1);

// ---- errors --------------------------------------------------------------------------------

export type Operation = 'bundle' | 'decrypt';

export interface ErrorRule {
  /** What the library reports, in words (docs/CRYPTO.md prints this table). */
  readonly library: string;
  readonly during: readonly Operation[];
  readonly code: CryptoViolationCode;
  readonly match: (e: LibSignalErrorBase) => boolean;
}

const withCode = (code: ErrorCode) => (e: LibSignalErrorBase) => e.code === code;
const saying = (re: RegExp) => (e: LibSignalErrorBase) => e.code === ErrorCode.Generic && re.test(e.message);

/**
 * Library errors -> codes, for errors that get past the wrapper's own checks (version byte,
 * structure, first-message record, Kyber prekey present; docs/CRYPTO.md). The library reports
 * most failures as ErrorCode.Generic, told apart by their text. The first matching row wins.
 * Every row has a test that produces it from a real ciphertext or bundle.
 */
export const PQXDH_ERRORS: readonly ErrorRule[] = [
  {
    library: 'ErrorCode.DuplicatedMessage',
    during: ['decrypt'],
    code: 'VIO_CRYPTO_DUPLICATE',
    match: withCode(ErrorCode.DuplicatedMessage),
  },
  {
    library: 'ErrorCode.UntrustedIdentity',
    during: ['bundle', 'decrypt'],
    code: 'VIO_CRYPTO_UNTRUSTED_IDENTITY',
    match: withCode(ErrorCode.UntrustedIdentity),
  },
  {
    // The stores throw MissingKeyError; the library wraps it in this text.
    library: "Generic 'error in method call 'loadPreKey' / 'loadSignedPreKey' / 'loadKyberPreKey''",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_MISSING_PREKEY',
    match: saying(/error in method call 'load(?:Pre|SignedPre|KyberPre)Key'.*missing /),
  },
  {
    library: "Generic 'session with … not found'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_NO_SESSION',
    match: saying(/^session with .* not found/),
  },
  {
    library: "Generic 'invalid … message: decryption failed'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_BAD_MAC',
    match: saying(/decryption failed/),
  },
  {
    // A Kyber ciphertext of the wrong length or type byte.
    library: "Generic 'bad KEM ciphertext length' / 'bad KEM key type'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_INVALID_MESSAGE',
    match: saying(/^bad KEM /),
  },
  {
    // A degenerate base key (all zeros, small order).
    library: "Generic 'invalid PreKey message: incoming base key is invalid'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_INVALID_MESSAGE',
    match: saying(/base key is invalid/),
  },
  {
    // A degenerate signed or one-time prekey (all zeros, small order) under a valid signature.
    library: "Generic 'invalid key agreement'",
    during: ['bundle'],
    code: 'VIO_CRYPTO_INVALID_BUNDLE',
    match: saying(/invalid key agreement/),
  },
  {
    library: "Generic 'invalid signature detected' (signed or Kyber prekey)",
    during: ['bundle'],
    code: 'VIO_CRYPTO_INVALID_BUNDLE',
    match: saying(/signature/),
  },
];

export function classifyPqxdhError(
  e: unknown,
  during: Operation,
): { code: CryptoViolationCode; rule: ErrorRule } {
  const rule =
    e instanceof LibSignalErrorBase
      ? PQXDH_ERRORS.find((r) => r.during.includes(during) && r.match(e))
      : undefined;
  if (rule === undefined) {
    const err = e as Error;
    const detail = e instanceof LibSignalErrorBase ? `${ErrorCode[e.code]} in ${e.operation}` : err.name;
    throw new HarnessError('HRN_ERR_CRYPTO', `libsignal-client (${during}): ${detail}: ${err.message}`, {
      cause: e,
    });
  }
  return { code: rule.code, rule };
}

function failure<T>(e: unknown, during: Operation): Outcome<T> {
  const { code } = classifyPqxdhError(e, during);
  return { ok: false, code, message: `libsignal-client: ${(e as Error).message}` };
}

function reject<T>(code: CryptoViolationCode, message: string): Outcome<T> {
  return { ok: false, code, message };
}

// ---- the identity --------------------------------------------------------------------------

type IdEntries = [number, Uint8Array<ArrayBuffer>][];

interface PqxdhSnapshotData {
  readonly identityKeyPair: Uint8Array;
  readonly registrationId: number;
  readonly nextPreKeyId: number;
  readonly signedPreKeyId: number;
  readonly preKeys: IdEntries;
  readonly signedPreKeys: IdEntries;
  readonly kyberPreKeys: IdEntries;
  readonly sessions: [string, Uint8Array<ArrayBuffer>][];
  readonly identities: [string, Uint8Array][];
  readonly firstMessages: string[];
}

class PqxdhIdentity implements CryptoIdentity {
  readonly profile = 'signal-pqxdh' as const;
  readonly identityKey: Uint8Array;
  readonly #keyPair: IdentityKeyPair;
  readonly #book = new IdentityBook();
  readonly #ledger = new FirstMessageLedger();
  readonly #queue = new SerialQueue();
  readonly #sessions = new MemorySessionStore();
  readonly #identities: MemoryIdentityStore;
  readonly #preKeys = new MemoryPreKeyStore();
  readonly #signedPreKeys = new MemorySignedPreKeyStore();
  readonly #kyberPreKeys = new MemoryKyberPreKeyStore();
  readonly #addresses = new Map<string, { lib: LibraryAddress; protocol: ProtocolAddress; key: string }>();
  #nextPreKeyId: number;
  /** The current signed prekey's id; the current Kyber prekey has the same id. */
  #signedPreKeyId = 0;

  constructor(
    keyPair: IdentityKeyPair,
    readonly registrationId: number,
    nextPreKeyId: number,
  ) {
    this.#keyPair = keyPair;
    this.identityKey = keyPair.publicKey.getPublicKeyBytes();
    this.#identities = new MemoryIdentityStore(keyPair, registrationId, this.#book);
    this.#nextPreKeyId = nextPreKeyId;
  }

  #address(jid: string) {
    let a = this.#addresses.get(jid);
    if (a === undefined) {
      const lib = toLibraryAddress(jid);
      if (lib.deviceId + DEVICE_OFFSET > MAX_LIBRARY_DEVICE) {
        throw new HarnessError(
          'HRN_ERR_INTERNAL',
          `libsignal-client cannot address device ${lib.deviceId}: ${jid}`,
        );
      }
      const protocol = ProtocolAddress.new(lib.name, lib.deviceId + DEVICE_OFFSET);
      a = { lib, protocol, key: protocol.toString() };
      this.#addresses.set(jid, a);
    }
    return a;
  }

  addSignedPreKeys(id: number): { signedPreKey: SignedPreKeyPublic; kyberPreKey: KyberPreKeyPublic } {
    const priv = PrivateKey.generate();
    const pub = priv.getPublicKey();
    const signature = this.#keyPair.privateKey.sign(pub.serialize());
    this.#signedPreKeys.put(SignedPreKeyRecord.new(id, Date.now(), pub, priv, signature));
    const kem = KEMKeyPair.generate();
    const kemPublic = kem.getPublicKey().serialize();
    const kemSignature = this.#keyPair.privateKey.sign(kemPublic);
    this.#kyberPreKeys.put(KyberPreKeyRecord.new(id, Date.now(), kem, kemSignature));
    this.#signedPreKeyId = id;
    return {
      signedPreKey: { id, publicKey: pub.getPublicKeyBytes(), signature },
      kyberPreKey: { id, publicKey: kemPublic, signature: kemSignature },
    };
  }

  addPreKeys(count: number): PreKeyPublic[] {
    if (!Number.isInteger(count) || count < 0 || this.#nextPreKeyId + count - 1 > MAX_PREKEY_ID) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `cannot generate ${count} prekeys from id ${this.#nextPreKeyId}`,
      );
    }
    const out: PreKeyPublic[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.#nextPreKeyId++;
      const priv = PrivateKey.generate();
      const pub = priv.getPublicKey();
      this.#preKeys.put(PreKeyRecord.new(id, pub, priv));
      out.push({ id, publicKey: pub.getPublicKeyBytes() });
    }
    return out;
  }

  keyUpload(): KeyUpload {
    const spk = this.#signedPreKeys.get(this.#signedPreKeyId);
    const kyber = this.#kyberPreKeys.get(this.#signedPreKeyId);
    if (spk === undefined || kyber === undefined) {
      throw new HarnessError('HRN_ERR_INTERNAL', 'the current signed or Kyber prekey is missing');
    }
    return {
      registrationId: this.registrationId,
      identityKey: Uint8Array.from(this.identityKey),
      signedPreKey: {
        id: spk.id(),
        publicKey: spk.publicKey().getPublicKeyBytes(),
        signature: spk.signature(),
      },
      preKeys: this.#preKeys.all().map((r) => ({ id: r.id(), publicKey: r.publicKey().getPublicKeyBytes() })),
      kyberPreKey: { id: kyber.id(), publicKey: kyber.publicKey().serialize(), signature: kyber.signature() },
    };
  }

  async generatePreKeys(count: number): Promise<readonly PreKeyPublic[]> {
    return this.#queue.run(async () => this.addPreKeys(count));
  }

  async rotateSignedPreKey(): Promise<{ signedPreKey: SignedPreKeyPublic; kyberPreKey: KyberPreKeyPublic }> {
    return this.#queue.run(async () => {
      const id = this.#signedPreKeyId + 1;
      if (id > MAX_PREKEY_ID) throw new HarnessError('HRN_ERR_INTERNAL', 'signed prekey ids exhausted');
      return this.addSignedPreKeys(id);
    });
  }

  async processBundle(address: string, bundle: PublicBundle): Promise<Outcome<void>> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      const bad = checkBundleLengths(bundle);
      if (bad !== undefined) return reject('VIO_CRYPTO_INVALID_BUNDLE', bad);
      const { signedPreKey: spk, preKey, kyberPreKey: kyber } = bundle;
      if (kyber === undefined) {
        return reject(
          'VIO_CRYPTO_INVALID_BUNDLE',
          'the bundle has no Kyber prekey; signal-pqxdh never falls back to X3DH',
        );
      }
      let libraryBundle: PreKeyBundle;
      try {
        libraryBundle = PreKeyBundle.new(
          bundle.registrationId,
          a.lib.deviceId + DEVICE_OFFSET,
          preKey ? preKey.id : null,
          preKey ? PublicKey.deserialize(withType(preKey.publicKey)) : null,
          spk.id,
          PublicKey.deserialize(withType(spk.publicKey)),
          copyBytes(spk.signature),
          PublicKey.deserialize(withType(bundle.identityKey)),
          kyber.id,
          KEMPublicKey.deserialize(copyBytes(kyber.publicKey)),
          copyBytes(kyber.signature),
        );
      } catch (e) {
        // A key the library cannot read (a Kyber key with an unknown type byte).
        return reject('VIO_CRYPTO_INVALID_BUNDLE', `libsignal-client: ${(e as Error).message}`);
      }
      try {
        await processPreKeyBundle(libraryBundle, a.protocol, LOCAL_ADDRESS, this.#sessions, this.#identities);
      } catch (e) {
        return failure(e, 'bundle');
      }
      return { ok: true, value: undefined };
    });
  }

  async hasSession(address: string): Promise<boolean> {
    const a = this.#address(address);
    return this.#queue.run(async () => this.#sessions.peek(a.key)?.hasCurrentState() ?? false);
  }

  async deleteSession(address: string): Promise<void> {
    const a = this.#address(address);
    return this.#queue.run(async () => this.#sessions.delete(a.key));
  }

  async encrypt(address: string, plaintext: Uint8Array): Promise<Ciphertext> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      try {
        const m = await signalEncrypt(
          copyBytes(plaintext),
          a.protocol,
          LOCAL_ADDRESS,
          this.#sessions,
          this.#identities,
        );
        const type = m.type();
        if (type === CiphertextMessageType.PreKey) return { type: 'pkmsg', bytes: m.serialize() };
        if (type === CiphertextMessageType.Whisper) return { type: 'msg', bytes: m.serialize() };
        throw new Error(`unexpected message type ${type}`);
      } catch (e) {
        throw new HarnessError(
          'HRN_ERR_CRYPTO',
          `libsignal-client encrypt to ${address}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    });
  }

  async decrypt(address: string, ciphertext: Ciphertext): Promise<Outcome<Uint8Array>> {
    // One private copy: the parse (views into it) and the library see the same bytes, whatever
    // the caller does with its own while the operation waits in the queue.
    const bytes = copyBytes(ciphertext.bytes);
    const parsed = parseForProfile({ type: ciphertext.type, bytes }, PQXDH_VERSION_BYTE);
    if (!parsed.ok) return parsed;
    const a = this.#address(address);
    const p = parsed.value;
    return this.#queue.run(async (): Promise<Outcome<Uint8Array>> => {
      if (p.type === 'msg') {
        try {
          const message = SignalMessage.deserialize(bytes);
          const plaintext = await signalDecrypt(
            message,
            a.protocol,
            LOCAL_ADDRESS,
            this.#sessions,
            this.#identities,
          );
          return { ok: true, value: plaintext };
        } catch (e) {
          return failure(e, 'decrypt');
        }
      }
      const key = FirstMessageLedger.key(a.key, p.preKey.baseKey, p.message.ratchetKey, p.message.counter);
      if (this.#ledger.has(key)) {
        return reject(
          'VIO_CRYPTO_DUPLICATE',
          `first message ${p.message.counter} from ${address} was decrypted before`,
        );
      }
      try {
        const message = PreKeySignalMessage.deserialize(bytes);
        const plaintext = await signalDecryptPreKey(
          message,
          a.protocol,
          LOCAL_ADDRESS,
          this.#sessions,
          this.#identities,
          this.#preKeys,
          this.#signedPreKeys,
          this.#kyberPreKeys,
        );
        this.#ledger.add(key);
        return { ok: true, value: plaintext };
      } catch (e) {
        return failure(e, 'decrypt');
      }
    });
  }

  async knownIdentity(address: string): Promise<Uint8Array | undefined> {
    const a = this.#address(address);
    return this.#queue.run(async () => this.#book.get(a.lib.name));
  }

  async trustIdentity(address: string, identityKey: Uint8Array): Promise<void> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      if (identityKey.length !== PUBLIC_KEY_LENGTH) {
        throw new HarnessError('HRN_ERR_INTERNAL', `an identity key is ${PUBLIC_KEY_LENGTH} bytes`);
      }
      this.#book.save(a.lib.name, identityKey);
      this.#sessions.delete(a.key);
    });
  }

  async snapshot(): Promise<StoreSnapshot> {
    return this.#queue.run(async () => {
      const data: PqxdhSnapshotData = {
        identityKeyPair: this.#keyPair.serialize(),
        registrationId: this.registrationId,
        nextPreKeyId: this.#nextPreKeyId,
        signedPreKeyId: this.#signedPreKeyId,
        preKeys: this.#preKeys.snapshot(),
        signedPreKeys: this.#signedPreKeys.snapshot(),
        kyberPreKeys: this.#kyberPreKeys.snapshot(),
        sessions: this.#sessions.snapshot(),
        identities: this.#book.snapshot(),
        firstMessages: this.#ledger.snapshot(),
      };
      return { profile: this.profile, data };
    });
  }

  async restore(snapshot: StoreSnapshot): Promise<void> {
    return this.#queue.run(async () => {
      const data = snapshot.data as PqxdhSnapshotData;
      const same =
        snapshot.profile === this.profile &&
        bytesEqual(
          IdentityKeyPair.deserialize(copyBytes(data.identityKeyPair)).publicKey.serialize(),
          this.#keyPair.publicKey.serialize(),
        );
      if (!same) throw new HarnessError('HRN_ERR_INTERNAL', 'the snapshot is of another identity or profile');
      this.#preKeys.restore(data.preKeys);
      this.#signedPreKeys.restore(data.signedPreKeys);
      this.#kyberPreKeys.restore(data.kyberPreKeys);
      this.#sessions.restore(data.sessions);
      this.#book.restore(data.identities);
      this.#ledger.restore(data.firstMessages);
      this.#nextPreKeyId = data.nextPreKeyId;
      this.#signedPreKeyId = data.signedPreKeyId;
    });
  }
}

export const signalPqxdh: CryptoProfile = {
  id: 'signal-pqxdh',
  messageVersion: 4,
  async createIdentity(options: IdentityOptions = {}): Promise<CryptoIdentity> {
    const registrationId = options.registrationId ?? randomRegistrationId();
    if (!Number.isInteger(registrationId) || registrationId < 0 || registrationId > 0xffffffff) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `registration id out of the uint32 range: ${registrationId}`,
      );
    }
    const identity = new PqxdhIdentity(
      IdentityKeyPair.generate(),
      registrationId,
      options.firstPreKeyId ?? 1,
    );
    identity.addSignedPreKeys(options.signedPreKeyId ?? 1);
    identity.addPreKeys(options.preKeyCount ?? 812);
    return identity;
  },
  inspect: inspectCiphertext,
};
