// crypto: per profile, what the harness adds on top of its Signal library.
//
// - 1 KB messages: encrypt + decrypt of one 1 KB message on an established session, through the
//   profile (version and structure checks, per-identity queue, copies of the session for
//   failure isolation, outcome mapping) vs the bare library calls with plain in-memory stores.
//   Target: the profile at least 0.9x the bare calls (at most 10% overhead).
// - Session setup: a fresh recipient identity, its bundle processed, a first message encrypted
//   and decrypted. Reported without a target: the profiles check what the bare calls do not
//   (signal-x3dh verifies the signed-prekey signature, which libsignal-node skips, in pure JS).

import * as client from '@signalapp/libsignal-client';
import type { CryptoIdentity, CryptoProfile, PublicBundle } from '../../harness/crypto/profile.ts';
import { signalPqxdh } from '../../harness/crypto/signal-pqxdh.ts';
import { signalX3dh } from '../../harness/crypto/signal-x3dh.ts';
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
import type { BenchOptions, Figure, Ratio, SuiteReport } from '../lib.ts';
import { measure, ratio } from '../lib.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
const PLAINTEXT = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);

function bundleOf(id: CryptoIdentity): PublicBundle {
  const up = id.keyUpload();
  return {
    registrationId: up.registrationId,
    identityKey: up.identityKey,
    signedPreKey: up.signedPreKey,
    ...(up.preKeys[0] && { preKey: up.preKeys[0] }),
    ...(up.kyberPreKey && { kyberPreKey: up.kyberPreKey }),
  };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark sanity check failed: ${what}`);
}

// ---- through the profiles ------------------------------------------------------------------

async function profileTasks(profile: CryptoProfile) {
  const alice = await profile.createIdentity({ preKeyCount: 1 });
  const bob = await profile.createIdentity({ preKeyCount: 1 });
  check((await alice.processBundle(BOB, bundleOf(bob))).ok, 'profile bundle');
  check((await bob.decrypt(ALICE, await alice.encrypt(BOB, PLAINTEXT))).ok, 'profile first message');
  check((await alice.decrypt(BOB, await bob.encrypt(ALICE, PLAINTEXT))).ok, 'profile reply');

  const sender = await profile.createIdentity({ preKeyCount: 0 });
  let n = 0;
  return {
    message: async () => {
      const o = await bob.decrypt(ALICE, await alice.encrypt(BOB, PLAINTEXT));
      if (!o.ok) throw new Error(o.message);
    },
    setup: async () => {
      const recipient = await profile.createIdentity({ preKeyCount: 1 });
      const to = `49${String(n++).padStart(10, '0')}@s.whatsapp.net`;
      const b = await sender.processBundle(to, bundleOf(recipient));
      if (!b.ok) throw new Error(b.message);
      const o = await recipient.decrypt(ALICE, await sender.encrypt(to, PLAINTEXT));
      if (!o.ok) throw new Error(o.message);
    },
  };
}

// ---- bare libsignal-client -----------------------------------------------------------------

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

async function clientEncrypt(from: ClientParty, to: client.ProtocolAddress) {
  return client.signalEncrypt(PLAINTEXT, to, LOCAL, from.sessions, from.identities);
}

async function clientDecrypt(at: ClientParty, from: client.ProtocolAddress, m: client.CiphertextMessage) {
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

async function bareClientTasks() {
  const alice = clientParty(1);
  const bob = clientParty(2);
  const aliceAt = client.ProtocolAddress.new('alice', 1);
  const bobAt = client.ProtocolAddress.new('bob', 1);
  await client.processPreKeyBundle(bob.bundle, bobAt, LOCAL, alice.sessions, alice.identities);
  await clientDecrypt(bob, aliceAt, await clientEncrypt(alice, bobAt));
  await clientDecrypt(alice, bobAt, await clientEncrypt(bob, aliceAt));

  const sender = clientParty(3);
  let n = 0;
  return {
    message: async () => {
      await clientDecrypt(bob, aliceAt, await clientEncrypt(alice, bobAt));
    },
    setup: async () => {
      const recipient = clientParty(4);
      const to = client.ProtocolAddress.new(`r${n++}`, 1);
      await client.processPreKeyBundle(recipient.bundle, to, LOCAL, sender.sessions, sender.identities);
      await clientDecrypt(recipient, aliceAt, await clientEncrypt(sender, to));
    },
  };
}

// ---- bare libsignal-node -------------------------------------------------------------------

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

async function bareNodeTasks() {
  const body = Buffer.from(PLAINTEXT);
  const alice = nodeParty(1);
  const bob = nodeParty(2);
  const aliceAt = new libsignal.ProtocolAddress('alice', 0);
  const bobAt = new libsignal.ProtocolAddress('bob', 0);
  await new libsignal.SessionBuilder(alice.store, bobAt).initOutgoing(bob.bundle);
  const toBob = new libsignal.SessionCipher(alice.store, bobAt);
  const fromAlice = new libsignal.SessionCipher(bob.store, aliceAt);
  await fromAlice.decryptPreKeyWhisperMessage((await toBob.encrypt(body)).body);
  await new libsignal.SessionCipher(alice.store, bobAt).decryptWhisperMessage(
    (await new libsignal.SessionCipher(bob.store, aliceAt).encrypt(body)).body,
  );

  const sender = nodeParty(3);
  let n = 0;
  return {
    message: async () => {
      await fromAlice.decryptWhisperMessage((await toBob.encrypt(body)).body);
    },
    setup: async () => {
      const recipient = nodeParty(4);
      const to = new libsignal.ProtocolAddress(`r${n++}`, 0);
      await new libsignal.SessionBuilder(sender.store, to).initOutgoing(recipient.bundle);
      const first = await new libsignal.SessionCipher(sender.store, to).encrypt(body);
      await new libsignal.SessionCipher(recipient.store, aliceAt).decryptPreKeyWhisperMessage(first.body);
    },
  };
}

// ---- the suite -----------------------------------------------------------------------------

// The machine is shared, and a burst of other work during one task's turn skews a ratio of two
// tasks measured one after the other. So each pair is measured in rounds, the order swapped
// every round, and each task keeps its best round.
const ROUNDS = 3;

async function bestOf(
  opts: BenchOptions,
  unit: string,
  tasks: Record<string, () => Promise<void>>,
): Promise<Record<string, Figure>> {
  const round: BenchOptions = { ...opts, timeMs: Math.max(300, Math.round(opts.timeMs / ROUNDS)) };
  const best: Record<string, Figure> = {};
  const entries = Object.entries(tasks);
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? entries : [...entries].reverse();
    const figures = await measure(round, 1, unit, Object.fromEntries(order));
    for (const [name, f] of Object.entries(figures)) {
      const b = best[name];
      if (b === undefined || f.perSecond > b.perSecond)
        best[name] = { ...f, samples: f.samples + (b?.samples ?? 0) };
      else best[name] = { ...b, samples: b.samples + f.samples };
    }
  }
  return best;
}

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const figures: Record<string, Figure> = {};
  const ratios: Record<string, Ratio> = {};
  const cases = [
    { id: signalPqxdh.id, profile: signalPqxdh, bare: bareClientTasks },
    { id: signalX3dh.id, profile: signalX3dh, bare: bareNodeTasks },
  ];
  for (const c of cases) {
    const wrapped = await profileTasks(c.profile);
    const bare = await c.bare();
    Object.assign(
      figures,
      await bestOf(opts, 'messages', {
        [`${c.id}/1kb-bare`]: bare.message,
        [`${c.id}/1kb-profile`]: wrapped.message,
      }),
      await bestOf(opts, 'sessions', {
        [`${c.id}/setup-bare`]: bare.setup,
        [`${c.id}/setup-profile`]: wrapped.setup,
      }),
    );
    ratios[`${c.id}/1kb-profile/bare`] = ratio(figures, `${c.id}/1kb-profile`, `${c.id}/1kb-bare`, {
      atLeast: 0.9,
    });
    ratios[`${c.id}/setup-profile/bare`] = ratio(figures, `${c.id}/setup-profile`, `${c.id}/setup-bare`);
  }
  return { figures, ratios };
}
