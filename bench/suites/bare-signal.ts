// The Signal libraries called bare: plain in-memory stores, no profile, no checks. The baseline
// of the crypto suite (what a profile adds) and of the end-to-end suite (what the whole path
// through server, peer and candidate adds to the encryption itself): libsignal-client for
// signal-pqxdh, libsignal-node for signal-x3dh, and the library the reference candidate itself
// uses for signal-x3dh (@privacyresearch/libsignal-protocol-typescript), to show its share.
//
// Each pair has an established session both ways before it is handed out, so `message` is the
// steady state: one encrypt by the sender, one decrypt by the recipient.

import type { KeyPairType, StorageType } from '@privacyresearch/libsignal-protocol-typescript';
import {
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
} from '@privacyresearch/libsignal-protocol-typescript';
import * as client from '@signalapp/libsignal-client';
import { IdentityBook } from '../../harness/crypto/stores/common.ts';
import {
  MemoryIdentityStore,
  MemoryKyberPreKeyStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
} from '../../harness/crypto/stores/pqxdh.ts';
import type { NodeKeyPair } from '../../harness/crypto/stores/x3dh.ts';
import { libsignal, X3dhStore } from '../../harness/crypto/stores/x3dh.ts';

export interface BarePair {
  /** Alice encrypts `plaintext` to Bob, Bob decrypts it; resolves to what Bob decrypted. */
  message(plaintext: Uint8Array): Promise<Uint8Array>;
  /** A fresh recipient's bundle processed, a first message encrypted and decrypted. */
  setup(plaintext: Uint8Array): Promise<void>;
}

// ---- libsignal-client (signal-pqxdh) ---------------------------------------------------------

const LOCAL = client.ProtocolAddress.new('self', 1);

function clientParty(registrationId: number) {
  const keyPair = client.IdentityKeyPair.generate();
  const party = {
    keyPair,
    sessions: new MemorySessionStore(),
    identities: new MemoryIdentityStore(keyPair, registrationId, new IdentityBook()),
    preKeys: new MemoryPreKeyStore(),
    signedPreKeys: new MemorySignedPreKeyStore(),
    kyberPreKeys: new MemoryKyberPreKeyStore(),
    bundle: undefined as unknown as client.PreKeyBundle,
  };
  const pre = client.PrivateKey.generate();
  party.preKeys.put(client.PreKeyRecord.new(1, pre.getPublicKey(), pre));
  const spk = client.PrivateKey.generate();
  const spkSig = keyPair.privateKey.sign(spk.getPublicKey().serialize());
  party.signedPreKeys.put(client.SignedPreKeyRecord.new(1, Date.now(), spk.getPublicKey(), spk, spkSig));
  const kem = client.KEMKeyPair.generate();
  const kemSig = keyPair.privateKey.sign(kem.getPublicKey().serialize());
  party.kyberPreKeys.put(client.KyberPreKeyRecord.new(1, Date.now(), kem, kemSig));
  party.bundle = client.PreKeyBundle.new(
    registrationId,
    1,
    1,
    pre.getPublicKey(),
    1,
    spk.getPublicKey(),
    spkSig,
    keyPair.publicKey,
    1,
    kem.getPublicKey(),
    kemSig,
  );
  return party;
}

type ClientParty = ReturnType<typeof clientParty>;

function clientEncrypt(from: ClientParty, to: client.ProtocolAddress, plaintext: Uint8Array) {
  // The library takes bytes over a plain ArrayBuffer; a copy of a message is noise next to the
  // ratchet step (and the libsignal-node pair copies into a Buffer too).
  return client.signalEncrypt(Uint8Array.from(plaintext), to, LOCAL, from.sessions, from.identities);
}

function clientDecrypt(at: ClientParty, from: client.ProtocolAddress, m: client.CiphertextMessage) {
  if (m.type() === client.CiphertextMessageType.PreKey) {
    return client.signalDecryptPreKey(
      client.PreKeySignalMessage.deserialize(m.serialize()),
      from,
      LOCAL,
      at.sessions,
      at.identities,
      at.preKeys,
      at.signedPreKeys,
      at.kyberPreKeys,
    );
  }
  return client.signalDecrypt(
    client.SignalMessage.deserialize(m.serialize()),
    from,
    LOCAL,
    at.sessions,
    at.identities,
  );
}

/** Two libsignal-client parties with a session both ways. */
export async function bareClientPair(): Promise<BarePair> {
  const hello = new Uint8Array(16);
  const alice = clientParty(1);
  const bob = clientParty(2);
  const aliceAt = client.ProtocolAddress.new('alice', 1);
  const bobAt = client.ProtocolAddress.new('bob', 1);
  await client.processPreKeyBundle(bob.bundle, bobAt, LOCAL, alice.sessions, alice.identities);
  await clientDecrypt(bob, aliceAt, await clientEncrypt(alice, bobAt, hello));
  await clientDecrypt(alice, bobAt, await clientEncrypt(bob, aliceAt, hello));

  const sender = clientParty(3);
  let n = 0;
  return {
    message: async (plaintext) => clientDecrypt(bob, aliceAt, await clientEncrypt(alice, bobAt, plaintext)),
    setup: async (plaintext) => {
      const recipient = clientParty(4);
      const to = client.ProtocolAddress.new(`r${n++}`, 1);
      await client.processPreKeyBundle(recipient.bundle, to, LOCAL, sender.sessions, sender.identities);
      await clientDecrypt(recipient, aliceAt, await clientEncrypt(sender, to, plaintext));
    },
  };
}

// ---- libsignal-node (signal-x3dh) ------------------------------------------------------------

function nodeParty(registrationId: number) {
  const identity: NodeKeyPair = libsignal.keyhelper.generateIdentityKeyPair();
  const store = new X3dhStore(identity, registrationId, new IdentityBook());
  const spk = libsignal.keyhelper.generateSignedPreKey(identity, 1);
  store.signedPreKeys.set(1, spk);
  const pre = libsignal.keyhelper.generatePreKey(1);
  store.preKeys.set(1, pre.keyPair);
  const bundle = {
    registrationId,
    identityKey: identity.pubKey,
    signedPreKey: { keyId: 1, publicKey: spk.keyPair.pubKey, signature: spk.signature },
    preKey: { keyId: 1, publicKey: pre.keyPair.pubKey },
  };
  return { store, bundle };
}

/** Two libsignal-node parties with a session both ways. */
export async function bareNodePair(): Promise<BarePair> {
  const hello = Buffer.alloc(16);
  const alice = nodeParty(1);
  const bob = nodeParty(2);
  const aliceAt = new libsignal.ProtocolAddress('alice', 0);
  const bobAt = new libsignal.ProtocolAddress('bob', 0);
  await new libsignal.SessionBuilder(alice.store, bobAt).initOutgoing(bob.bundle);
  const toBob = new libsignal.SessionCipher(alice.store, bobAt);
  const fromAlice = new libsignal.SessionCipher(bob.store, aliceAt);
  await fromAlice.decryptPreKeyWhisperMessage((await toBob.encrypt(hello)).body);
  await new libsignal.SessionCipher(alice.store, bobAt).decryptWhisperMessage(
    (await new libsignal.SessionCipher(bob.store, aliceAt).encrypt(hello)).body,
  );

  const sender = nodeParty(3);
  let n = 0;
  return {
    message: async (plaintext) =>
      fromAlice.decryptWhisperMessage((await toBob.encrypt(Buffer.from(plaintext))).body),
    setup: async (plaintext) => {
      const recipient = nodeParty(4);
      const to = new libsignal.ProtocolAddress(`r${n++}`, 0);
      await new libsignal.SessionBuilder(sender.store, to).initOutgoing(recipient.bundle);
      const first = await new libsignal.SessionCipher(sender.store, to).encrypt(Buffer.from(plaintext));
      await new libsignal.SessionCipher(recipient.store, aliceAt).decryptPreKeyWhisperMessage(first.body);
    },
  };
}

// ---- @privacyresearch/libsignal-protocol-typescript (the reference candidate's X3DH) --------

class TsStore implements StorageType {
  readonly sessions = new Map<string, string>();
  readonly preKeys = new Map<number, KeyPairType>();
  readonly signedPreKeys = new Map<number, KeyPairType>();

  constructor(
    readonly identity: KeyPairType,
    readonly registrationId: number,
  ) {}

  async getIdentityKeyPair() {
    return this.identity;
  }
  async getLocalRegistrationId() {
    return this.registrationId;
  }
  async isTrustedIdentity() {
    return true;
  }
  async saveIdentity() {
    return false;
  }
  async loadPreKey(id: string | number) {
    return this.preKeys.get(Number(id));
  }
  async storePreKey(id: string | number, pair: KeyPairType) {
    this.preKeys.set(Number(id), pair);
  }
  async removePreKey(id: string | number) {
    this.preKeys.delete(Number(id));
  }
  async storeSession(address: string, record: string) {
    this.sessions.set(address, record);
  }
  async loadSession(address: string) {
    return this.sessions.get(address);
  }
  async loadSignedPreKey(id: string | number) {
    return this.signedPreKeys.get(Number(id));
  }
  async storeSignedPreKey(id: string | number, pair: KeyPairType) {
    this.signedPreKeys.set(Number(id), pair);
  }
  async removeSignedPreKey(id: string | number) {
    this.signedPreKeys.delete(Number(id));
  }
}

async function tsParty(registrationId: number) {
  const identity = await KeyHelper.generateIdentityKeyPair();
  const store = new TsStore(identity, registrationId);
  const spk = await KeyHelper.generateSignedPreKey(identity, 1);
  store.signedPreKeys.set(1, spk.keyPair);
  const pre = await KeyHelper.generatePreKey(1);
  store.preKeys.set(1, pre.keyPair);
  const bundle = {
    registrationId,
    identityKey: identity.pubKey,
    signedPreKey: { keyId: 1, publicKey: spk.keyPair.pubKey, signature: spk.signature },
    preKey: { keyId: 1, publicKey: pre.keyPair.pubKey },
  };
  return { store, bundle };
}

type TsCipherText = Awaited<ReturnType<SessionCipher['encrypt']>>;

function tsDecrypt(cipher: SessionCipher, m: TsCipherText): Promise<ArrayBuffer> {
  const body = m.body ?? '';
  return m.type === 3
    ? cipher.decryptPreKeyWhisperMessage(body, 'binary')
    : cipher.decryptWhisperMessage(body, 'binary');
}

/**
 * Two parties of the library the reference candidate uses for signal-x3dh, with a session both
 * ways: how much of the end-to-end figure that library takes by itself.
 */
export async function bareTsPair(): Promise<Pick<BarePair, 'message'>> {
  const alice = await tsParty(1);
  const bob = await tsParty(2);
  const aliceAt = new SignalProtocolAddress('alice', 1);
  const bobAt = new SignalProtocolAddress('bob', 1);
  await new SessionBuilder(alice.store, bobAt).processPreKey(bob.bundle);
  const toBob = new SessionCipher(alice.store, bobAt);
  const fromAlice = new SessionCipher(bob.store, aliceAt);
  const hello = new Uint8Array(16).buffer;
  await tsDecrypt(fromAlice, await toBob.encrypt(hello));
  await tsDecrypt(
    new SessionCipher(alice.store, bobAt),
    await new SessionCipher(bob.store, aliceAt).encrypt(hello),
  );
  return {
    message: async (plaintext) =>
      new Uint8Array(await tsDecrypt(fromAlice, await toBob.encrypt(Uint8Array.from(plaintext).buffer))),
  };
}
