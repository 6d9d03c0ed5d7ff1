// The in-memory store for `libsignal` (libsignal-node, signal-x3dh), and the typed view of the
// parts of that package the profile uses.
//
// The package's own typings are thin and partly wrong (SessionRecord.serialize returns a plain
// object, not bytes; `curve`, the error classes and the per-session decrypt are not declared),
// so the shapes below describe the JavaScript of the pinned version. The profile's tests fail
// if a new version moves any of it.

import libsignalModule from 'libsignal';
import type { IdentityBook } from './common.ts';
import { withoutType } from './common.ts';

// ---- the package, typed --------------------------------------------------------------------

/** Keys as the package holds them: public keys with the 0x05 type byte (33 bytes). */
export interface NodeKeyPair {
  readonly pubKey: Buffer;
  readonly privKey: Buffer;
}

export interface NodeChain {
  chainKey: { counter: number; key?: Buffer };
  chainType: number;
  messageKeys: Record<number, Buffer>;
}

export interface NodeSessionEntry {
  registrationId?: number;
  currentRatchet: {
    ephemeralKeyPair: NodeKeyPair;
    lastRemoteEphemeralKey: Buffer;
    previousCounter: number;
    rootKey: Buffer;
  };
  indexInfo: {
    baseKey: Buffer;
    baseKeyType: number;
    closed: number;
    used: number;
    created: number;
    remoteIdentityKey: Buffer;
  };
  pendingPreKey?: { baseKey: Buffer; signedKeyId: number; preKeyId?: number };
  _chains: Record<string, NodeChain>;
}

export interface NodeSessionRecord {
  serialize(): unknown;
  getSessions(): NodeSessionEntry[];
  getOpenSession(): NodeSessionEntry | undefined;
  /** Throws when `baseKey` is the base key of a session this side started. */
  getSession(baseKey: Buffer): NodeSessionEntry | undefined;
  setSession(session: NodeSessionEntry): void;
  haveOpenSession(): boolean;
  isClosed(session: NodeSessionEntry): boolean;
  removeOldSessions(): void;
}

export interface NodeBundle {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKey?: { keyId: number; publicKey: Buffer };
}

export interface NodeAddress {
  readonly id: string;
  readonly deviceId: number;
  toString(): string;
}

export interface NodeCipher {
  encrypt(data: Buffer): Promise<{ type: number; body: Buffer }>;
  decryptPreKeyWhisperMessage(data: Buffer): Promise<Buffer>;
  decryptWhisperMessage(data: Buffer): Promise<Buffer>;
  /** Undeclared: decrypts a `msg` with one session entry, which it changes as it goes. */
  doDecryptWhisperMessage(data: Buffer, session: NodeSessionEntry): Promise<Buffer>;
}

export interface LibsignalNode {
  ProtocolAddress: new (name: string, deviceId: number) => NodeAddress;
  SessionBuilder: new (
    storage: NodeStorage,
    address: NodeAddress,
  ) => {
    initOutgoing(bundle: NodeBundle): Promise<void>;
  };
  SessionCipher: new (storage: NodeStorage, address: NodeAddress) => NodeCipher;
  SessionRecord: { new (): NodeSessionRecord; deserialize(data: unknown): NodeSessionRecord };
  keyhelper: {
    generateIdentityKeyPair(): NodeKeyPair;
    generateSignedPreKey(
      identity: NodeKeyPair,
      id: number,
    ): { keyId: number; keyPair: NodeKeyPair; signature: Buffer };
    generatePreKey(id: number): { keyId: number; keyPair: NodeKeyPair };
  };
  curve: {
    generateKeyPair(): NodeKeyPair;
    calculateSignature(privKey: Buffer, message: Buffer): Buffer;
    /** With isInit false (the default) a real check: true when the signature verifies. */
    verifySignature(pubKey: Buffer, message: Buffer, signature: Buffer, isInit?: boolean): boolean;
  };
  SignalError: new (message?: string) => Error;
  UntrustedIdentityKeyError: new (addr: string, identityKey: Buffer) => Error;
  SessionError: new (message: string) => Error;
  MessageCounterError: new (message: string) => Error;
  PreKeyError: new (message: string) => Error;
}

export const libsignal = libsignalModule as unknown as LibsignalNode;

/** The storage interface the package calls (duck-typed; some calls are awaited, some not). */
export interface NodeStorage {
  loadSession(id: string): Promise<NodeSessionRecord | undefined>;
  storeSession(id: string, record: NodeSessionRecord): Promise<void>;
  isTrustedIdentity(identifier: string, identityKey: Buffer): boolean;
  loadPreKey(id: number | undefined): Promise<NodeKeyPair | undefined>;
  removePreKey(id: number): void;
  loadSignedPreKey(id: number): NodeKeyPair | undefined;
  getOurRegistrationId(): number;
  getOurIdentity(): NodeKeyPair;
}

// ---- the store -----------------------------------------------------------------------------

export interface SignedPreKeyPair {
  readonly keyId: number;
  readonly keyPair: NodeKeyPair;
  readonly signature: Buffer;
}

/** Plain data of every record, structured-cloneable. */
export interface X3dhStoreData {
  readonly sessions: [string, unknown][];
  readonly preKeys: [number, Uint8Array, Uint8Array][];
  readonly signedPreKeys: [number, Uint8Array, Uint8Array, Uint8Array][];
}

function buf(b: Uint8Array): Buffer {
  return Buffer.from(Uint8Array.from(b));
}

export class X3dhStore implements NodeStorage {
  sessions = new Map<string, NodeSessionRecord>();
  preKeys = new Map<number, NodeKeyPair>();
  signedPreKeys = new Map<number, SignedPreKeyPair>();

  constructor(
    private readonly identity: NodeKeyPair,
    private readonly registrationId: number,
    private readonly book: IdentityBook,
  ) {}

  async loadSession(id: string): Promise<NodeSessionRecord | undefined> {
    return this.sessions.get(id);
  }

  async storeSession(id: string, record: NodeSessionRecord): Promise<void> {
    this.sessions.set(id, record);
  }

  // The package passes the bare name here on most paths and `name.device` on one (a first
  // message); identities are kept per name, so both resolve to the same entry.
  isTrustedIdentity(identifier: string, identityKey: Buffer): boolean {
    return this.book.isTrusted(identifier.replace(/\.[0-9]+$/, ''), withoutType(identityKey));
  }

  async loadPreKey(id: number | undefined): Promise<NodeKeyPair | undefined> {
    return id === undefined ? undefined : this.preKeys.get(id);
  }

  removePreKey(id: number): void {
    this.preKeys.delete(id);
  }

  loadSignedPreKey(id: number): NodeKeyPair | undefined {
    return this.signedPreKeys.get(id)?.keyPair;
  }

  getOurRegistrationId(): number {
    return this.registrationId;
  }

  getOurIdentity(): NodeKeyPair {
    return this.identity;
  }

  snapshot(): X3dhStoreData {
    return {
      sessions: [...this.sessions].map(([k, r]) => [k, r.serialize()]),
      preKeys: [...this.preKeys].map(([id, kp]) => [
        id,
        Uint8Array.from(kp.pubKey),
        Uint8Array.from(kp.privKey),
      ]),
      signedPreKeys: [...this.signedPreKeys].map(([id, s]) => [
        id,
        Uint8Array.from(s.keyPair.pubKey),
        Uint8Array.from(s.keyPair.privKey),
        Uint8Array.from(s.signature),
      ]),
    };
  }

  restore(data: X3dhStoreData): void {
    // Session data goes through structuredClone so a restored store never shares objects with
    // the snapshot it came from (the snapshot can be restored again later).
    this.sessions = new Map(
      data.sessions.map(([k, d]) => [k, libsignal.SessionRecord.deserialize(structuredClone(d))]),
    );
    this.preKeys = new Map(
      data.preKeys.map(([id, pub, priv]) => [id, { pubKey: buf(pub), privKey: buf(priv) }]),
    );
    this.signedPreKeys = new Map(
      data.signedPreKeys.map(([id, pub, priv, sig]) => [
        id,
        { keyId: id, keyPair: { pubKey: buf(pub), privKey: buf(priv) }, signature: buf(sig) },
      ]),
    );
  }
}
