// signal-x3dh: WhatsApp's classic Signal (X3DH, message version 3, byte 0x33) on `libsignal`,
// the libsignal-node line WhatsApp-compatible clients use (docs/PROFILE.md §6, docs/CRYPTO.md).
//
// What the wrapper adds to the package, and why:
// - The signed-prekey signature is checked here: the package's session builder calls its
//   verifier in a mode that always answers "valid".
// - A `msg` is decrypted session by session on a copy of each, so a failed attempt (tampered,
//   replayed) never changes the stored session; the package's own loop works on the stored
//   objects and folds every failure into one "No matching sessions" error.
// - A first message is decrypted on the stored record and the record put back as it was if
//   decryption fails.
// - The remote identity is recorded only once a bundle or first message has been accepted.

import { HarnessError } from '../codes.ts';
import type { LibraryAddress } from './address.ts';
import { addressKey, toLibraryAddress } from './address.ts';
import { checkBundleLengths, MAX_PREKEY_ID, PUBLIC_KEY_LENGTH } from './bundle.ts';
import { inspectCiphertext, parseForProfile } from './inspect.ts';
import type {
  Ciphertext,
  CryptoIdentity,
  CryptoProfile,
  CryptoViolationCode,
  IdentityOptions,
  KeyUpload,
  Outcome,
  PreKeyPublic,
  PublicBundle,
  SignedPreKeyPublic,
  StoreSnapshot,
} from './profile.ts';
import {
  bytesEqual,
  FirstMessageLedger,
  IdentityBook,
  randomRegistrationId,
  SerialQueue,
  withoutType,
  withType,
} from './stores/common.ts';
import type {
  NodeAddress,
  NodeCipher,
  NodeKeyPair,
  NodeSessionEntry,
  NodeSessionRecord,
  X3dhStoreData,
} from './stores/x3dh.ts';
import { libsignal, X3dhStore } from './stores/x3dh.ts';

export const X3DH_VERSION_BYTE = 0x33;

// libsignal-node's message type numbers (libsignal-client's differ: 2 for a normal message).
const NODE_TYPE_PREKEY = 3;
const NODE_TYPE_WHISPER = 1;

// ---- errors --------------------------------------------------------------------------------

export type Operation = 'bundle' | 'decrypt';

export interface ErrorRule {
  /** What the library reports, in words (docs/CRYPTO.md prints this table). */
  readonly library: string;
  readonly during: readonly Operation[];
  readonly code: CryptoViolationCode;
  readonly match: (e: Error) => boolean;
}

const named = (name: string) => (e: Error) => e.name === name;
const said = (text: string) => (e: Error) => e.message === text;
const osslCode = (code: string) => (e: Error) => (e as Error & { code?: unknown }).code === code;

/**
 * Library errors -> codes, for errors that get past the wrapper's own checks (version byte,
 * structure, first-message record, session present, bundle signature; docs/CRYPTO.md). The
 * first matching row wins. Every row has a test that produces it from a real ciphertext.
 */
export const X3DH_ERRORS: readonly ErrorRule[] = [
  {
    // A first message from a changed identity. (A bundle is checked before the package.)
    library: 'UntrustedIdentityKeyError',
    during: ['decrypt'],
    code: 'VIO_CRYPTO_UNTRUSTED_IDENTITY',
    match: named('UntrustedIdentityKeyError'),
  },
  {
    library: "MessageCounterError 'Key used already or never filled'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_DUPLICATE',
    match: named('MessageCounterError'),
  },
  {
    library: "PreKeyError 'Invalid PreKey ID' / 'Missing SignedPreKey'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_MISSING_PREKEY',
    match: named('PreKeyError'),
  },
  { library: "Error 'Bad MAC'", during: ['decrypt'], code: 'VIO_CRYPTO_BAD_MAC', match: said('Bad MAC') },
  {
    // Reached only with a counter the sender never used on a chain already closed: an altered
    // counter, which the MAC would have caught had the key been derivable.
    library: "SessionError 'Chain closed'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_BAD_MAC',
    match: said('Chain closed'),
  },
  {
    // Our own message sent back to us (a reflection): its ratchet key is our sending key.
    library: "Error 'Tried to decrypt on a sending chain'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_BAD_MAC',
    match: said('Tried to decrypt on a sending chain'),
  },
  {
    // Past the 2000 message keys the package derives ahead: the message cannot be
    // authenticated (libsignal-client reports its own limit as a failed decryption too).
    library: "SessionError 'Over 2000 messages into the future!'",
    during: ['decrypt'],
    code: 'VIO_CRYPTO_BAD_MAC',
    match: said('Over 2000 messages into the future!'),
  },
  {
    // The MAC verified but the AES-CBC padding does not: the sender encrypted badly.
    library: 'OpenSSL ERR_OSSL_BAD_DECRYPT',
    during: ['decrypt'],
    code: 'VIO_CRYPTO_INVALID_MESSAGE',
    match: osslCode('ERR_OSSL_BAD_DECRYPT'),
  },
  {
    // X25519 with a degenerate point (all zeros, small order) as base or ratchet key.
    library: 'OpenSSL ERR_OSSL_FAILED_DURING_DERIVATION',
    during: ['decrypt'],
    code: 'VIO_CRYPTO_INVALID_MESSAGE',
    match: osslCode('ERR_OSSL_FAILED_DURING_DERIVATION'),
  },
  {
    // The same in a bundle's signed or one-time prekey (a signature can cover any 32 bytes).
    library: 'OpenSSL ERR_OSSL_FAILED_DURING_DERIVATION',
    during: ['bundle'],
    code: 'VIO_CRYPTO_INVALID_BUNDLE',
    match: osslCode('ERR_OSSL_FAILED_DURING_DERIVATION'),
  },
];

/** The row an error falls under, or a harness error when none explains it. */
export function classifyX3dhError(
  e: unknown,
  during: Operation,
): { code: CryptoViolationCode; rule: ErrorRule } {
  const err = e instanceof Error ? e : new Error(String(e));
  const rule = X3DH_ERRORS.find((r) => r.during.includes(during) && r.match(err));
  if (rule === undefined) {
    throw new HarnessError('HRN_ERR_CRYPTO', `libsignal (${during}): ${err.name}: ${err.message}`, {
      cause: e,
    });
  }
  return { code: rule.code, rule };
}

function failure<T>(e: unknown, during: Operation): Outcome<T> {
  const { code } = classifyX3dhError(e, during);
  const err = e as Error;
  return { ok: false, code, message: `libsignal: ${err.name}: ${err.message}` };
}

function reject<T>(code: CryptoViolationCode, message: string): Outcome<T> {
  return { ok: false, code, message };
}

// ---- sessions ------------------------------------------------------------------------------

// A copy deep enough that nothing the package does to it reaches the original: the package
// replaces keys and counters and adds or deletes chains and message keys, but never writes
// into a Buffer, so the Buffers are shared.
function copySession(s: NodeSessionEntry): NodeSessionEntry {
  const c: NodeSessionEntry = Object.assign(Object.create(Object.getPrototypeOf(s)), s);
  c.currentRatchet = { ...s.currentRatchet };
  c.indexInfo = { ...s.indexInfo };
  if (s.pendingPreKey) c.pendingPreKey = { ...s.pendingPreKey };
  const chains: NodeSessionEntry['_chains'] = {};
  for (const [k, ch] of Object.entries(s._chains)) {
    chains[k] = { ...ch, chainKey: { ...ch.chainKey }, messageKeys: { ...ch.messageKeys } };
  }
  c._chains = chains;
  return c;
}

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

// ---- the identity --------------------------------------------------------------------------

interface X3dhSnapshotData {
  readonly identityPublic: Uint8Array;
  readonly identityPrivate: Uint8Array;
  readonly registrationId: number;
  readonly nextPreKeyId: number;
  readonly signedPreKeyId: number;
  readonly store: X3dhStoreData;
  readonly identities: [string, Uint8Array][];
  readonly firstMessages: string[];
}

class X3dhIdentity implements CryptoIdentity {
  readonly profile = 'signal-x3dh' as const;
  readonly identityKey: Uint8Array;
  readonly #keyPair: NodeKeyPair;
  readonly #book = new IdentityBook();
  readonly #ledger = new FirstMessageLedger();
  readonly #queue = new SerialQueue();
  readonly #store: X3dhStore;
  readonly #addresses = new Map<string, { lib: LibraryAddress; node: NodeAddress; cipher: NodeCipher }>();
  #nextPreKeyId: number;
  #signedPreKeyId: number;

  constructor(
    keyPair: NodeKeyPair,
    readonly registrationId: number,
    nextPreKeyId: number,
    signedPreKeyId: number,
  ) {
    this.#keyPair = keyPair;
    this.identityKey = withoutType(keyPair.pubKey);
    this.#store = new X3dhStore(keyPair, registrationId, this.#book);
    this.#nextPreKeyId = nextPreKeyId;
    this.#signedPreKeyId = signedPreKeyId;
  }

  #address(jid: string) {
    let a = this.#addresses.get(jid);
    if (a === undefined) {
      const lib = toLibraryAddress(jid);
      const node = new libsignal.ProtocolAddress(lib.name, lib.deviceId);
      a = { lib, node, cipher: new libsignal.SessionCipher(this.#store, node) };
      this.#addresses.set(jid, a);
    }
    return a;
  }

  addSignedPreKey(id: number): SignedPreKeyPublic {
    const spk = libsignal.keyhelper.generateSignedPreKey(this.#keyPair, id);
    this.#store.signedPreKeys.set(id, spk);
    this.#signedPreKeyId = id;
    return { id, publicKey: withoutType(spk.keyPair.pubKey), signature: Uint8Array.from(spk.signature) };
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
      const { keyPair } = libsignal.keyhelper.generatePreKey(id);
      this.#store.preKeys.set(id, keyPair);
      out.push({ id, publicKey: withoutType(keyPair.pubKey) });
    }
    return out;
  }

  #signedPreKeyPublic(): SignedPreKeyPublic {
    const spk = this.#store.signedPreKeys.get(this.#signedPreKeyId);
    if (spk === undefined) throw new HarnessError('HRN_ERR_INTERNAL', 'the current signed prekey is missing');
    return {
      id: spk.keyId,
      publicKey: withoutType(spk.keyPair.pubKey),
      signature: Uint8Array.from(spk.signature),
    };
  }

  keyUpload(): KeyUpload {
    const preKeys = [...this.#store.preKeys]
      .sort(([a], [b]) => a - b)
      .map(([id, kp]) => ({ id, publicKey: withoutType(kp.pubKey) }));
    return {
      registrationId: this.registrationId,
      identityKey: Uint8Array.from(this.identityKey),
      signedPreKey: this.#signedPreKeyPublic(),
      preKeys,
    };
  }

  async generatePreKeys(count: number): Promise<readonly PreKeyPublic[]> {
    return this.#queue.run(async () => this.addPreKeys(count));
  }

  async rotateSignedPreKey(): Promise<{ signedPreKey: SignedPreKeyPublic }> {
    return this.#queue.run(async () => {
      const id = this.#signedPreKeyId + 1;
      if (id > MAX_PREKEY_ID) throw new HarnessError('HRN_ERR_INTERNAL', 'signed prekey ids exhausted');
      return { signedPreKey: this.addSignedPreKey(id) };
    });
  }

  async processBundle(address: string, bundle: PublicBundle): Promise<Outcome<void>> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      const bad = checkBundleLengths(bundle);
      if (bad !== undefined) return reject('VIO_CRYPTO_INVALID_BUNDLE', bad);
      if (!this.#book.isTrusted(a.lib.name, bundle.identityKey)) {
        return reject(
          'VIO_CRYPTO_UNTRUSTED_IDENTITY',
          `the bundle's identity key for ${address} differs from the one on record`,
        );
      }
      const identityKey = buf(withType(bundle.identityKey));
      const spk = bundle.signedPreKey;
      const spkPublic = buf(withType(spk.publicKey));
      // A real check, unlike the session builder's (see the top of the file).
      if (!libsignal.curve.verifySignature(identityKey, spkPublic, buf(spk.signature))) {
        return reject('VIO_CRYPTO_INVALID_BUNDLE', `the signed prekey ${spk.id} signature does not verify`);
      }
      // The builder closes an open session itself, but announces it on the console.
      const record = this.#store.sessions.get(addressKey(a.lib));
      const open = record?.getOpenSession();
      if (open) open.indexInfo.closed = Date.now();
      try {
        await new libsignal.SessionBuilder(this.#store, a.node).initOutgoing({
          registrationId: bundle.registrationId,
          identityKey,
          signedPreKey: { keyId: spk.id, publicKey: spkPublic, signature: buf(spk.signature) },
          ...(bundle.preKey && {
            preKey: { keyId: bundle.preKey.id, publicKey: buf(withType(bundle.preKey.publicKey)) },
          }),
        });
      } catch (e) {
        if (open) open.indexInfo.closed = -1;
        return failure(e, 'bundle');
      }
      this.#book.save(a.lib.name, bundle.identityKey);
      return { ok: true, value: undefined };
    });
  }

  async hasSession(address: string): Promise<boolean> {
    const a = this.#address(address);
    return this.#queue.run(
      async () => this.#store.sessions.get(addressKey(a.lib))?.haveOpenSession() ?? false,
    );
  }

  async deleteSession(address: string): Promise<void> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      this.#store.sessions.delete(addressKey(a.lib));
    });
  }

  async encrypt(address: string, plaintext: Uint8Array): Promise<Ciphertext> {
    const a = this.#address(address);
    return this.#queue.run(async () => {
      let r: { type: number; body: Buffer };
      try {
        r = await a.cipher.encrypt(buf(plaintext));
      } catch (e) {
        throw new HarnessError('HRN_ERR_CRYPTO', `libsignal encrypt to ${address}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (r.type === NODE_TYPE_PREKEY) return { type: 'pkmsg', bytes: new Uint8Array(r.body) };
      if (r.type === NODE_TYPE_WHISPER) return { type: 'msg', bytes: new Uint8Array(r.body) };
      throw new HarnessError('HRN_ERR_CRYPTO', `libsignal encrypt returned message type ${r.type}`);
    });
  }

  async decrypt(address: string, ciphertext: Ciphertext): Promise<Outcome<Uint8Array>> {
    // One private copy: the parse (views into it) and the library see the same bytes, whatever
    // the caller does with its own while the operation waits in the queue.
    const bytes = Buffer.from(ciphertext.bytes);
    const parsed = parseForProfile({ type: ciphertext.type, bytes }, X3DH_VERSION_BYTE);
    if (!parsed.ok) return parsed;
    const a = this.#address(address);
    const p = parsed.value;
    return this.#queue.run(async (): Promise<Outcome<Uint8Array>> => {
      if (p.type === 'msg') return this.#decryptMessage(a.lib, a.cipher, bytes);
      const key = FirstMessageLedger.key(
        addressKey(a.lib),
        p.preKey.baseKey,
        p.message.ratchetKey,
        p.message.counter,
      );
      if (this.#ledger.has(key)) {
        return reject(
          'VIO_CRYPTO_DUPLICATE',
          `first message ${p.message.counter} from ${address} was decrypted before`,
        );
      }
      const result = await this.#decryptFirst(a.lib, a.cipher, bytes, p.preKey.baseKey);
      if (result.ok) {
        this.#ledger.add(key);
        this.#book.save(a.lib.name, p.preKey.identityKey);
      }
      return result;
    });
  }

  async #decryptMessage(
    lib: LibraryAddress,
    cipher: NodeCipher,
    bytes: Buffer,
  ): Promise<Outcome<Uint8Array>> {
    const id = addressKey(lib);
    const record = this.#store.sessions.get(id);
    const sessions = record?.getSessions() ?? [];
    if (record === undefined || sessions.length === 0) {
      return reject('VIO_CRYPTO_NO_SESSION', `a msg from ${id} with no session`);
    }
    const errors: unknown[] = [];
    for (const session of sessions) {
      const copy = copySession(session);
      let plaintext: Buffer;
      try {
        plaintext = await cipher.doDecryptWhisperMessage(bytes, copy);
      } catch (e) {
        errors.push(e);
        continue;
      }
      if (!this.#book.isTrusted(lib.name, withoutType(copy.indexInfo.remoteIdentityKey))) {
        return reject(
          'VIO_CRYPTO_UNTRUSTED_IDENTITY',
          `the session's identity key for ${id} is no longer trusted`,
        );
      }
      copy.indexInfo.used = Date.now();
      record.setSession(copy);
      record.removeOldSessions();
      await this.#store.storeSession(id, record);
      return { ok: true, value: new Uint8Array(plaintext) };
    }
    // Only the session that owns the message's chain can tell a spent counter; every other
    // one derives a fresh chain and fails on the MAC. So a counter error is the answer.
    const classified = errors.map((e) => ({ e, code: classifyX3dhError(e, 'decrypt').code }));
    const pick =
      classified.find((c) => c.code === 'VIO_CRYPTO_DUPLICATE') ??
      classified.find((c) => c.code === 'VIO_CRYPTO_BAD_MAC') ??
      classified[0];
    return failure(pick?.e, 'decrypt');
  }

  async #decryptFirst(
    lib: LibraryAddress,
    cipher: NodeCipher,
    bytes: Buffer,
    baseKey: Uint8Array,
  ): Promise<Outcome<Uint8Array>> {
    const id = addressKey(lib);
    // The package sets up the new session on the stored record (closing the open one) before
    // it knows whether the message decrypts; on failure the record is put back as it was.
    const record = this.#store.sessions.get(id);
    const saved = record?.serialize();
    if (record) closeQuietly(record, baseKey);
    try {
      return { ok: true, value: new Uint8Array(await cipher.decryptPreKeyWhisperMessage(bytes)) };
    } catch (e) {
      if (saved === undefined) this.#store.sessions.delete(id);
      else this.#store.sessions.set(id, libsignal.SessionRecord.deserialize(saved));
      return failure(e, 'decrypt');
    }
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
      this.#store.sessions.delete(addressKey(a.lib));
    });
  }

  async snapshot(): Promise<StoreSnapshot> {
    return this.#queue.run(async () => {
      const data: X3dhSnapshotData = {
        identityPublic: Uint8Array.from(this.#keyPair.pubKey),
        identityPrivate: Uint8Array.from(this.#keyPair.privKey),
        registrationId: this.registrationId,
        nextPreKeyId: this.#nextPreKeyId,
        signedPreKeyId: this.#signedPreKeyId,
        store: this.#store.snapshot(),
        identities: this.#book.snapshot(),
        firstMessages: this.#ledger.snapshot(),
      };
      return { profile: this.profile, data };
    });
  }

  async restore(snapshot: StoreSnapshot): Promise<void> {
    return this.#queue.run(async () => {
      const data = snapshot.data as X3dhSnapshotData;
      if (snapshot.profile !== this.profile || !bytesEqual(data.identityPublic, this.#keyPair.pubKey)) {
        throw new HarnessError('HRN_ERR_INTERNAL', 'the snapshot is of another identity or profile');
      }
      this.#store.restore(data.store);
      this.#book.restore(data.identities);
      this.#ledger.restore(data.firstMessages);
      this.#nextPreKeyId = data.nextPreKeyId;
      this.#signedPreKeyId = data.signedPreKeyId;
    });
  }
}

// What the package does before a first message that starts a new session (it closes the open
// session), without the console lines it writes while doing it.
function closeQuietly(record: NodeSessionRecord, baseKey: Uint8Array): void {
  let known: NodeSessionEntry | undefined;
  try {
    known = record.getSession(buf(withType(baseKey)));
  } catch {
    return; // our own base key: the package refuses the message itself
  }
  if (known !== undefined) return;
  const open = record.getOpenSession();
  if (open) open.indexInfo.closed = Date.now();
}

export const signalX3dh: CryptoProfile = {
  id: 'signal-x3dh',
  messageVersion: 3,
  async createIdentity(options: IdentityOptions = {}): Promise<CryptoIdentity> {
    const registrationId = options.registrationId ?? randomRegistrationId();
    if (!Number.isInteger(registrationId) || registrationId < 0 || registrationId > 0xffffffff) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `registration id out of the uint32 range: ${registrationId}`,
      );
    }
    const identity = new X3dhIdentity(
      libsignal.keyhelper.generateIdentityKeyPair(),
      registrationId,
      options.firstPreKeyId ?? 1,
      0,
    );
    identity.addSignedPreKey(options.signedPreKeyId ?? 1);
    identity.addPreKeys(options.preKeyCount ?? 812);
    return identity;
  },
  inspect: inspectCiphertext,
};
