// In-memory stores for @signalapp/libsignal-client (signal-pqxdh), with snapshots as bytes.
//
// The library hands the stores native records and takes copies of what they return, so
// keeping the record objects is safe: a failed decrypt never changes what is stored.

import {
  IdentityChange,
  type IdentityKeyPair,
  IdentityKeyStore,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyRecord,
  PreKeyStore,
  type PrivateKey,
  type ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
} from '@signalapp/libsignal-client';
import type { IdentityBook } from './common.ts';
import { withType } from './common.ts';

/**
 * What a store throws for a key it does not hold. The library reports it as "error in method
 * call 'loadPreKey'" (or loadSignedPreKey, loadKyberPreKey) with this text appended, which is
 * how the profile tells a missing prekey from every other failure.
 */
export class MissingKeyError extends Error {
  constructor(kind: string, id: number) {
    super(`missing ${kind} ${id}`);
    this.name = 'MissingKeyError';
  }
}

type Entries = [string, Uint8Array<ArrayBuffer>][];
type IdEntries = [number, Uint8Array<ArrayBuffer>][];

export class MemorySessionStore extends SessionStore {
  #records = new Map<string, SessionRecord>();

  override async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#records.set(name.toString(), record);
  }

  override async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    return this.#records.get(name.toString()) ?? null;
  }

  override async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => {
      const r = this.#records.get(a.toString());
      if (r === undefined) throw new Error(`no session for ${a.toString()}`);
      return r;
    });
  }

  peek(key: string): SessionRecord | undefined {
    return this.#records.get(key);
  }

  delete(key: string): void {
    this.#records.delete(key);
  }

  snapshot(): Entries {
    return [...this.#records].map(([k, r]) => [k, r.serialize()]);
  }

  restore(entries: Entries): void {
    this.#records = new Map(entries.map(([k, b]) => [k, SessionRecord.deserialize(b)]));
  }
}

export class MemoryIdentityStore extends IdentityKeyStore {
  constructor(
    private readonly keyPair: IdentityKeyPair,
    private readonly registrationId: number,
    private readonly book: IdentityBook,
  ) {
    super();
  }

  override async getIdentityKey(): Promise<PrivateKey> {
    return this.keyPair.privateKey;
  }

  override async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.keyPair;
  }

  override async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }

  override async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    return this.book.save(name.name(), key.getPublicKeyBytes())
      ? IdentityChange.ReplacedExisting
      : IdentityChange.NewOrUnchanged;
  }

  override async isTrustedIdentity(name: ProtocolAddress, key: PublicKey): Promise<boolean> {
    return this.book.isTrusted(name.name(), key.getPublicKeyBytes());
  }

  override async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    const raw = this.book.get(name.name());
    return raw ? PublicKey.deserialize(withType(raw)) : null;
  }
}

export class MemoryPreKeyStore extends PreKeyStore {
  #records = new Map<number, PreKeyRecord>();

  override async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  override async getPreKey(id: number): Promise<PreKeyRecord> {
    const r = this.#records.get(id);
    if (r === undefined) throw new MissingKeyError('one-time prekey', id);
    return r;
  }

  override async removePreKey(id: number): Promise<void> {
    this.#records.delete(id);
  }

  /** The unused one-time prekeys, by id. */
  all(): PreKeyRecord[] {
    return [...this.#records.values()].sort((a, b) => a.id() - b.id());
  }

  put(record: PreKeyRecord): void {
    this.#records.set(record.id(), record);
  }

  snapshot(): IdEntries {
    return [...this.#records].map(([k, r]) => [k, r.serialize()]);
  }

  restore(entries: IdEntries): void {
    this.#records = new Map(entries.map(([k, b]) => [k, PreKeyRecord.deserialize(b)]));
  }
}

export class MemorySignedPreKeyStore extends SignedPreKeyStore {
  #records = new Map<number, SignedPreKeyRecord>();

  override async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  override async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const r = this.#records.get(id);
    if (r === undefined) throw new MissingKeyError('signed prekey', id);
    return r;
  }

  get(id: number): SignedPreKeyRecord | undefined {
    return this.#records.get(id);
  }

  put(record: SignedPreKeyRecord): void {
    this.#records.set(record.id(), record);
  }

  snapshot(): IdEntries {
    return [...this.#records].map(([k, r]) => [k, r.serialize()]);
  }

  restore(entries: IdEntries): void {
    this.#records = new Map(entries.map(([k, b]) => [k, SignedPreKeyRecord.deserialize(b)]));
  }
}

export class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  #records = new Map<number, KyberPreKeyRecord>();

  override async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.#records.set(id, record);
  }

  override async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const r = this.#records.get(id);
    if (r === undefined) throw new MissingKeyError('Kyber prekey', id);
    return r;
  }

  // The profile's Kyber prekeys are last-resort keys (docs/PROFILE.md §6): they stay until
  // rotated. A replayed first message is caught by the profile's first-message record.
  override async markKyberPreKeyUsed(): Promise<void> {}

  get(id: number): KyberPreKeyRecord | undefined {
    return this.#records.get(id);
  }

  put(record: KyberPreKeyRecord): void {
    this.#records.set(record.id(), record);
  }

  snapshot(): IdEntries {
    return [...this.#records].map(([k, r]) => [k, r.serialize()]);
  }

  restore(entries: IdEntries): void {
    this.#records = new Map(entries.map(([k, b]) => [k, KyberPreKeyRecord.deserialize(b)]));
  }
}
