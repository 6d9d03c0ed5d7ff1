// The behaviour both crypto profiles share, run once per profile: sessions, ordering, every
// rejection code, identity changes, snapshots and what inspect shows of a conversation.

import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { parseCiphertext } from './inspect.ts';
import { flipBit, truncated, withVersionByte } from './inspect-mutate.ts';
import type {
  Ciphertext,
  CryptoIdentity,
  CryptoProfile,
  CryptoViolationCode,
  Inspection,
  Outcome,
  PublicBundle,
} from './profile.ts';
import { getProfile, PROFILES } from './profiles.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
const CAROL = '491707654321:0@s.whatsapp.net';

const text = (s: string) => new TextEncoder().encode(s);

function bundleOf(id: CryptoIdentity, preKeyIndex: number | null = 0): PublicBundle {
  const up = id.keyUpload();
  const preKey = preKeyIndex === null ? undefined : up.preKeys[preKeyIndex];
  return {
    registrationId: up.registrationId,
    identityKey: up.identityKey,
    signedPreKey: up.signedPreKey,
    ...(preKey && { preKey }),
    ...(up.kyberPreKey && { kyberPreKey: up.kyberPreKey }),
  };
}

function expectPlain(o: Outcome<Uint8Array>, s: string): void {
  if (!o.ok) expect.fail(`expected "${s}", got ${o.code}: ${o.message}`);
  expect(new TextDecoder().decode(o.value)).toBe(s);
}

function expectCode(o: Outcome<unknown>, code: CryptoViolationCode): void {
  if (o.ok) expect.fail(`expected ${code}, but it succeeded`);
  expect(o.code, o.message).toBe(code);
}

function inspected(profile: CryptoProfile, c: Ciphertext): Inspection {
  const i = profile.inspect(c);
  if (!i.ok) return expect.fail(`inspect failed: ${i.message}`);
  return i.value;
}

function hex(b: Uint8Array | undefined): string {
  return Buffer.from(b ?? []).toString('hex');
}

describe.each(Object.values(PROFILES))('$id', (profile) => {
  const other = profile.id === 'signal-pqxdh' ? getProfile('signal-x3dh') : getProfile('signal-pqxdh');
  const versionByte = profile.messageVersion === 4 ? 0x44 : 0x33;

  async function identity(preKeyCount = 4) {
    return profile.createIdentity({ preKeyCount });
  }

  /** Alice has processed Bob's bundle (with his first one-time prekey). */
  async function pair() {
    const alice = await identity();
    const bob = await identity();
    const r = await alice.processBundle(BOB, bundleOf(bob));
    expect(r).toEqual({ ok: true, value: undefined });
    return { alice, bob };
  }

  /** A pair that has exchanged a first message and a reply: both send `msg` from here on. */
  async function talking() {
    const { alice, bob } = await pair();
    expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('hi'))), 'hi');
    expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('hello'))), 'hello');
    return { alice, bob };
  }

  describe('a conversation', () => {
    it('first message, reply, follow-ups in both directions', async () => {
      const { alice, bob } = await pair();
      expect(await alice.hasSession(BOB)).toBe(true);
      expect(await bob.hasSession(ALICE)).toBe(false);

      const first = await alice.encrypt(BOB, text('hi bob'));
      expect(first.type).toBe('pkmsg');
      expect(first.bytes[0]).toBe(versionByte);
      expectPlain(await bob.decrypt(ALICE, first), 'hi bob');
      expect(await bob.hasSession(ALICE)).toBe(true);

      const reply = await bob.encrypt(ALICE, text('hi alice'));
      expect(reply.type).toBe('msg');
      expect(reply.bytes[0]).toBe(versionByte);
      expectPlain(await alice.decrypt(BOB, reply), 'hi alice');

      for (let i = 0; i < 3; i++) {
        const a = await alice.encrypt(BOB, text(`a${i}`));
        expect(a.type).toBe('msg');
        expectPlain(await bob.decrypt(ALICE, a), `a${i}`);
        const b = await bob.encrypt(ALICE, text(`b${i}`));
        expect(b.type).toBe('msg');
        expectPlain(await alice.decrypt(BOB, b), `b${i}`);
      }
    });

    it('keeps sending first messages until the first reply, all on one base key', async () => {
      const { alice, bob } = await pair();
      const sent = [];
      for (let i = 0; i < 3; i++) sent.push(await alice.encrypt(BOB, text(`m${i}`)));
      const views = sent.map((c) => inspected(profile, c));
      expect(views.map((v) => v.type)).toEqual(['pkmsg', 'pkmsg', 'pkmsg']);
      expect(views.map((v) => v.counter)).toEqual([0, 1, 2]);
      expect(new Set(views.map((v) => hex(v.baseKey))).size).toBe(1);
      for (const [i, c] of sent.entries()) expectPlain(await bob.decrypt(ALICE, c), `m${i}`);
      expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('ok'))), 'ok');
      expect((await alice.encrypt(BOB, text('now msg'))).type).toBe('msg');
    });

    it('carries a 1 KB message and an empty one', async () => {
      const { alice, bob } = await talking();
      const kb = new Uint8Array(1024).map((_, i) => i & 0xff);
      const got = await bob.decrypt(ALICE, await alice.encrypt(BOB, kb));
      expect(got.ok && Buffer.from(got.value).equals(Buffer.from(kb))).toBe(true);
      expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, new Uint8Array(0))), '');
    });

    it('decrypts out of order within a chain', async () => {
      const { alice, bob } = await talking();
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await alice.encrypt(BOB, text(`m${i}`)));
      for (const i of [4, 1, 3, 0, 2]) expectPlain(await bob.decrypt(ALICE, sent[i] as Ciphertext), `m${i}`);
    });

    it('decrypts out of order across ratchet turns', async () => {
      const { alice, bob } = await talking();
      const early = await alice.encrypt(BOB, text('early'));
      const late = await alice.encrypt(BOB, text('late'));
      expectPlain(await bob.decrypt(ALICE, late), 'late');
      expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('turn'))), 'turn');
      const next = await alice.encrypt(BOB, text('next turn'));
      expectPlain(await bob.decrypt(ALICE, next), 'next turn');
      expectPlain(await bob.decrypt(ALICE, early), 'early');
      expectCode(await bob.decrypt(ALICE, early), 'VIO_CRYPTO_DUPLICATE');
    });

    it('starts a session from a bundle without a one-time prekey', async () => {
      const alice = await identity();
      const bob = await identity();
      expect((await alice.processBundle(BOB, bundleOf(bob, null))).ok).toBe(true);
      const first = await alice.encrypt(BOB, text('no prekey'));
      expect(inspected(profile, first).preKeyId).toBeUndefined();
      expectPlain(await bob.decrypt(ALICE, first), 'no prekey');
      expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('fine'))), 'fine');
      // Nothing was consumed on Bob's side: all his one-time prekeys are still there.
      expect(bob.keyUpload().preKeys).toHaveLength(4);
    });

    it('consumes the one-time prekey a first message used', async () => {
      const { alice, bob } = await pair();
      const before = bob.keyUpload().preKeys.map((k) => k.id);
      expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('x'))), 'x');
      expect(bob.keyUpload().preKeys.map((k) => k.id)).toEqual(before.slice(1));
    });
  });

  describe('rejections', () => {
    it('a replayed msg is DUPLICATE, and the replay changes nothing', async () => {
      const { alice, bob } = await talking();
      const m = await alice.encrypt(BOB, text('once'));
      expectPlain(await bob.decrypt(ALICE, m), 'once');
      expectCode(await bob.decrypt(ALICE, m), 'VIO_CRYPTO_DUPLICATE');
      expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('twice'))), 'twice');
    });

    it('a replayed first message is DUPLICATE, with or without a one-time prekey, even after the session is gone', async () => {
      for (const preKey of [0, null]) {
        const alice = await identity();
        const bob = await identity();
        await alice.processBundle(BOB, bundleOf(bob, preKey));
        const first = await alice.encrypt(BOB, text('first'));
        expectPlain(await bob.decrypt(ALICE, first), 'first');
        expectCode(await bob.decrypt(ALICE, first), 'VIO_CRYPTO_DUPLICATE');
        await bob.deleteSession(ALICE);
        expectCode(await bob.decrypt(ALICE, first), 'VIO_CRYPTO_DUPLICATE');
      }
    });

    it('a flipped ciphertext byte is BAD_MAC, and the genuine message still decrypts', async () => {
      const { alice, bob } = await talking();
      const m = await alice.encrypt(BOB, text('genuine'));
      const parsed = parseCiphertext(m);
      if (!parsed.ok) return expect.fail(parsed.message);
      const at = Buffer.from(m.bytes).indexOf(Buffer.from(parsed.value.message.ciphertext));
      expect(at).toBeGreaterThan(0);
      expectCode(await bob.decrypt(ALICE, flipBit(m, (at + 3) * 8)), 'VIO_CRYPTO_BAD_MAC');
      expectCode(await bob.decrypt(ALICE, flipBit(m, (m.bytes.length - 1) * 8 + 5)), 'VIO_CRYPTO_BAD_MAC');
      expectPlain(await bob.decrypt(ALICE, m), 'genuine');
    });

    it('no single-bit flip of a msg decrypts, none throws, and none spends the message key', async () => {
      const { alice, bob } = await talking();
      const m = await alice.encrypt(BOB, text('every bit counts'));
      const codes = new Set<string>();
      for (let bit = 0; bit < m.bytes.length * 8; bit++) {
        const o = await bob.decrypt(ALICE, flipBit(m, bit));
        if (o.ok) expect.fail(`flipping bit ${bit} still decrypted`);
        codes.add(o.code);
      }
      const allowed = [
        'VIO_CRYPTO_BAD_MAC',
        'VIO_CRYPTO_INVALID_MESSAGE',
        'VIO_CRYPTO_UNSUPPORTED_VERSION',
        'VIO_CRYPTO_DUPLICATE',
      ];
      expect(
        [...codes].every((c) => allowed.includes(c)),
        [...codes].join(),
      ).toBe(true);
      expect(codes).toContain('VIO_CRYPTO_BAD_MAC');
      expect(codes).toContain('VIO_CRYPTO_UNSUPPORTED_VERSION');
      expectPlain(await bob.decrypt(ALICE, m), 'every bit counts');
    });

    it('our own message sent back to us is BAD_MAC', async () => {
      const { alice, bob } = await talking();
      const mine = await alice.encrypt(BOB, text('reflected'));
      expectCode(await alice.decrypt(BOB, mine), 'VIO_CRYPTO_BAD_MAC');
      expectPlain(await bob.decrypt(ALICE, mine), 'reflected');
    });

    it('a truncated msg or pkmsg is INVALID_MESSAGE', async () => {
      const { alice, bob } = await pair();
      const first = await alice.encrypt(BOB, text('first'));
      expectCode(
        await bob.decrypt(ALICE, truncated(first, first.bytes.length - 3)),
        'VIO_CRYPTO_INVALID_MESSAGE',
      );
      expectCode(await bob.decrypt(ALICE, truncated(first, 1)), 'VIO_CRYPTO_INVALID_MESSAGE');
      expectCode(await bob.decrypt(ALICE, truncated(first, 0)), 'VIO_CRYPTO_INVALID_MESSAGE');
      expectPlain(await bob.decrypt(ALICE, first), 'first');
      const m = await bob.encrypt(ALICE, text('reply'));
      for (let length = 0; length < m.bytes.length; length++) {
        const o = await alice.decrypt(BOB, truncated(m, length));
        // A cut that happens to end on a field boundary still parses; it then fails on the MAC.
        const parses = parseCiphertext(truncated(m, length)).ok;
        expectCode(o, parses ? 'VIO_CRYPTO_BAD_MAC' : 'VIO_CRYPTO_INVALID_MESSAGE');
      }
      expectCode(await alice.decrypt(BOB, truncated(m, m.bytes.length - 3)), 'VIO_CRYPTO_INVALID_MESSAGE');
      expectPlain(await alice.decrypt(BOB, m), 'reply');
    });

    it('garbage is INVALID_MESSAGE', async () => {
      const bob = await identity();
      const garbage = Uint8Array.of(versionByte, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
      expectCode(await bob.decrypt(ALICE, { type: 'msg', bytes: garbage }), 'VIO_CRYPTO_INVALID_MESSAGE');
      expectCode(await bob.decrypt(ALICE, { type: 'pkmsg', bytes: garbage }), 'VIO_CRYPTO_INVALID_MESSAGE');
    });

    it('a message whose type does not match its bytes is INVALID_MESSAGE', async () => {
      const { alice, bob } = await pair();
      const first = await alice.encrypt(BOB, text('first'));
      expectCode(await bob.decrypt(ALICE, { type: 'msg', bytes: first.bytes }), 'VIO_CRYPTO_INVALID_MESSAGE');
      expectPlain(await bob.decrypt(ALICE, first), 'first');
      const reply = await bob.encrypt(ALICE, text('reply'));
      expectCode(
        await alice.decrypt(BOB, { type: 'pkmsg', bytes: reply.bytes }),
        'VIO_CRYPTO_INVALID_MESSAGE',
      );
    });

    it("another version is UNSUPPORTED_VERSION: the other profile's real messages and altered version bytes", async () => {
      const { alice, bob } = await talking();
      const foreign = await other.createIdentity({ preKeyCount: 1 });
      const foreignPeer = await other.createIdentity({ preKeyCount: 1 });
      await foreign.processBundle(BOB, bundleOf(foreignPeer));
      const foreignFirst = await foreign.encrypt(BOB, text('other version'));
      expectCode(await bob.decrypt(ALICE, foreignFirst), 'VIO_CRYPTO_UNSUPPORTED_VERSION');
      expectPlain(await foreignPeer.decrypt(ALICE, foreignFirst), 'other version');
      const foreignReply = await foreignPeer.encrypt(ALICE, text('reply'));
      expectCode(await alice.decrypt(BOB, foreignReply), 'VIO_CRYPTO_UNSUPPORTED_VERSION');

      const m = await alice.encrypt(BOB, text('v'));
      for (const byte of [0x22, 0x33, 0x34, 0x43, 0x44, 0x55, 0x00, 0xff]) {
        if (byte === versionByte) continue;
        expectCode(await bob.decrypt(ALICE, withVersionByte(m, byte)), 'VIO_CRYPTO_UNSUPPORTED_VERSION');
      }
      expectPlain(await bob.decrypt(ALICE, m), 'v');
    });

    it('a msg without a session is NO_SESSION', async () => {
      const { alice, bob } = await talking();
      const carol = await identity();
      const m = await alice.encrypt(BOB, text('for bob'));
      expectCode(await carol.decrypt(ALICE, m), 'VIO_CRYPTO_NO_SESSION');
      await bob.deleteSession(ALICE);
      expect(await bob.hasSession(ALICE)).toBe(false);
      expectCode(await bob.decrypt(ALICE, m), 'VIO_CRYPTO_NO_SESSION');
    });

    it('a first message naming a one-time prekey already used is MISSING_PREKEY', async () => {
      const bob = await identity();
      const alice = await identity();
      const carol = await identity();
      // The directory handed the same one-time prekey out twice; Carol's message uses it up.
      await alice.processBundle(BOB, bundleOf(bob, 0));
      await carol.processBundle(BOB, bundleOf(bob, 0));
      expectPlain(await bob.decrypt(CAROL, await carol.encrypt(BOB, text('carol'))), 'carol');
      const late = await alice.encrypt(BOB, text('alice'));
      expectCode(await bob.decrypt(ALICE, late), 'VIO_CRYPTO_MISSING_PREKEY');
      // A failed first message leaves no trace: no session and no identity on record.
      expect(await bob.hasSession(ALICE)).toBe(false);
      expect(await bob.knownIdentity(ALICE)).toBeUndefined();
    });

    it('a first message naming a signed prekey the receiver never had is MISSING_PREKEY', async () => {
      const bob = await identity();
      const alice = await identity();
      const b = bundleOf(bob, null);
      // The signature covers the key, not its id, so a wrong id passes the bundle check.
      await alice.processBundle(BOB, { ...b, signedPreKey: { ...b.signedPreKey, id: 4242 } });
      const m = await alice.encrypt(BOB, text('x'));
      expect(inspected(profile, m).signedPreKeyId).toBe(4242);
      expectCode(await bob.decrypt(ALICE, m), 'VIO_CRYPTO_MISSING_PREKEY');
    });

    it('a bundle whose signed-prekey signature does not verify is INVALID_BUNDLE', async () => {
      const alice = await identity();
      const bob = await identity();
      const b = bundleOf(bob);
      const signature = Uint8Array.from(b.signedPreKey.signature);
      signature[10] = (signature[10] as number) ^ 0x01;
      expectCode(
        await alice.processBundle(BOB, { ...b, signedPreKey: { ...b.signedPreKey, signature } }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
      // Another identity's valid signature does not do either.
      const carol = bundleOf(await identity());
      expectCode(
        await alice.processBundle(BOB, { ...b, identityKey: carol.identityKey }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
      expect(await alice.hasSession(BOB)).toBe(false);
      expect(await alice.knownIdentity(BOB)).toBeUndefined();
    });

    it('a bundle with an all-zero one-time prekey (no signature covers it) is INVALID_BUNDLE', async () => {
      const alice = await identity();
      const b = bundleOf(await identity());
      expectCode(
        await alice.processBundle(BOB, { ...b, preKey: { id: 1, publicKey: new Uint8Array(32) } }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
      expect(await alice.hasSession(BOB)).toBe(false);
      expect((await alice.processBundle(BOB, b)).ok).toBe(true);
    });

    it('a bundle with keys of the wrong length is INVALID_BUNDLE', async () => {
      const alice = await identity();
      const b = bundleOf(await identity());
      expectCode(
        await alice.processBundle(BOB, { ...b, identityKey: new Uint8Array(33) }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
      expectCode(
        await alice.processBundle(BOB, {
          ...b,
          signedPreKey: { ...b.signedPreKey, signature: new Uint8Array(63) },
        }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
      expectCode(
        await alice.processBundle(BOB, { ...b, preKey: { id: 1, publicKey: new Uint8Array(31) } }),
        'VIO_CRYPTO_INVALID_BUNDLE',
      );
    });
  });

  describe('identity change', () => {
    it('a first message from a new identity is UNTRUSTED_IDENTITY until the change is accepted', async () => {
      const { alice, bob } = await talking();
      const oldKey = await bob.knownIdentity(ALICE);
      expect(hex(oldKey)).toBe(hex(alice.identityKey));

      // Alice reinstalls: new identity, same address.
      const alice2 = await identity();
      await alice2.processBundle(BOB, bundleOf(bob, 1));
      const first = await alice2.encrypt(BOB, text('new phone'));
      expectCode(await bob.decrypt(ALICE, first), 'VIO_CRYPTO_UNTRUSTED_IDENTITY');
      expect(hex(await bob.knownIdentity(ALICE))).toBe(hex(alice.identityKey));
      // The old session still works until the change is accepted.
      expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('old phone'))), 'old phone');

      await bob.trustIdentity(ALICE, alice2.identityKey);
      expect(await bob.hasSession(ALICE)).toBe(false);
      expect(hex(await bob.knownIdentity(ALICE))).toBe(hex(alice2.identityKey));
      expectPlain(await bob.decrypt(ALICE, first), 'new phone');
      expectPlain(await alice2.decrypt(BOB, await bob.encrypt(ALICE, text('welcome back'))), 'welcome back');
    });

    it('a bundle with a changed identity is UNTRUSTED_IDENTITY until the change is accepted', async () => {
      const { alice } = await talking();
      const bob2 = await identity();
      expectCode(await alice.processBundle(BOB, bundleOf(bob2)), 'VIO_CRYPTO_UNTRUSTED_IDENTITY');
      await alice.trustIdentity(BOB, bob2.identityKey);
      expect(await alice.hasSession(BOB)).toBe(false);
      expect((await alice.processBundle(BOB, bundleOf(bob2))).ok).toBe(true);
      expectPlain(await bob2.decrypt(ALICE, await alice.encrypt(BOB, text('hello again'))), 'hello again');
    });

    it('a failed first message from a stranger does not put its identity on record', async () => {
      const { alice, bob } = await pair();
      const first = await alice.encrypt(BOB, text('x'));
      const parsed = parseCiphertext(first);
      if (!parsed.ok) return expect.fail(parsed.message);
      const inner = Buffer.from(parsed.value.message.ciphertext);
      const at = Buffer.from(first.bytes).indexOf(inner);
      expectCode(await bob.decrypt(ALICE, flipBit(first, (at + 1) * 8)), 'VIO_CRYPTO_BAD_MAC');
      expect(await bob.knownIdentity(ALICE)).toBeUndefined();
      expect(await bob.hasSession(ALICE)).toBe(false);
      expectPlain(await bob.decrypt(ALICE, first), 'x');
    });

    it('keeps identities per user: the device suffix :0 is the same address', async () => {
      const { alice, bob } = await pair();
      expectPlain(
        await bob.decrypt('491701234567:0@s.whatsapp.net', await alice.encrypt(BOB, text('x'))),
        'x',
      );
      expect(hex(await bob.knownIdentity(ALICE))).toBe(hex(alice.identityKey));
      expect(await bob.hasSession(ALICE)).toBe(true);
    });
  });

  describe('keys', () => {
    it('uploads raw 32-byte keys, 64-byte signatures and ids in range', async () => {
      const id = await profile.createIdentity({ preKeyCount: 5, firstPreKeyId: 100, signedPreKeyId: 7 });
      const up = id.keyUpload();
      expect(up.identityKey).toHaveLength(32);
      expect(hex(up.identityKey)).toBe(hex(id.identityKey));
      expect(up.preKeys.map((k) => k.id)).toEqual([100, 101, 102, 103, 104]);
      for (const k of up.preKeys) expect(k.publicKey).toHaveLength(32);
      expect(up.signedPreKey.id).toBe(7);
      expect(up.signedPreKey.publicKey).toHaveLength(32);
      expect(up.signedPreKey.signature).toHaveLength(64);
      if (profile.id === 'signal-pqxdh') {
        expect(up.kyberPreKey?.publicKey).toHaveLength(1569);
        expect(up.kyberPreKey?.signature).toHaveLength(64);
      } else {
        expect(up.kyberPreKey).toBeUndefined();
      }
    });

    it('creates 812 one-time prekeys unless told otherwise', async () => {
      const id = await profile.createIdentity();
      const ids = id.keyUpload().preKeys.map((k) => k.id);
      expect(ids).toHaveLength(812);
      expect(ids[0]).toBe(1);
      expect(ids.at(-1)).toBe(812);
    });

    it('tops up with ids that continue and never repeat', async () => {
      const id = await identity(3);
      const more = await id.generatePreKeys(4);
      expect(more.map((k) => k.id)).toEqual([4, 5, 6, 7]);
      expect(id.keyUpload().preKeys.map((k) => k.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const keys = id.keyUpload().preKeys.map((k) => hex(k.publicKey));
      expect(new Set(keys).size).toBe(keys.length);
      await expect(id.generatePreKeys(0xffffff)).rejects.toBeInstanceOf(HarnessError);
    });

    it('rotates the signed prekey; a session from the previous one still starts', async () => {
      const bob = await identity();
      const alice = await identity();
      const oldBundle = bundleOf(bob, 0);
      const rotated = await bob.rotateSignedPreKey();
      expect(rotated.signedPreKey.id).toBe(oldBundle.signedPreKey.id + 1);
      expect(bob.keyUpload().signedPreKey.id).toBe(rotated.signedPreKey.id);
      expect(hex(rotated.signedPreKey.publicKey)).not.toBe(hex(oldBundle.signedPreKey.publicKey));
      if (profile.id === 'signal-pqxdh') expect(rotated.kyberPreKey?.publicKey).toHaveLength(1569);
      else expect(rotated.kyberPreKey).toBeUndefined();

      await alice.processBundle(BOB, oldBundle);
      expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('old key'))), 'old key');
      const carol = await identity();
      await carol.processBundle(BOB, bundleOf(bob, 1));
      expectPlain(await bob.decrypt(CAROL, await carol.encrypt(BOB, text('new key'))), 'new key');
    });

    it('accepts registration ids over 2^31 and carries them in first messages', async () => {
      for (const registrationId of [2 ** 31, 2 ** 31 + 12345, 0xffffffff]) {
        const alice = await profile.createIdentity({ registrationId, preKeyCount: 1 });
        const bob = await identity(1);
        expect(alice.registrationId).toBe(registrationId);
        expect(alice.keyUpload().registrationId).toBe(registrationId);
        await alice.processBundle(BOB, bundleOf(bob));
        const first = await alice.encrypt(BOB, text('big id'));
        expect(inspected(profile, first).registrationId).toBe(registrationId);
        expectPlain(await bob.decrypt(ALICE, first), 'big id');
        // And as the bundle side.
        const carol = await identity(1);
        expect((await carol.processBundle(ALICE, bundleOf(alice))).ok).toBe(true);
        expectPlain(await alice.decrypt(CAROL, await carol.encrypt(ALICE, text('to big id'))), 'to big id');
      }
    });

    it('refuses registration ids outside the uint32 range', async () => {
      await expect(
        profile.createIdentity({ registrationId: 2 ** 32, preKeyCount: 0 }),
      ).rejects.toBeInstanceOf(HarnessError);
      await expect(profile.createIdentity({ registrationId: -1, preKeyCount: 0 })).rejects.toBeInstanceOf(
        HarnessError,
      );
    });

    it('refuses an address that is not a user JID', async () => {
      const id = await identity(1);
      await expect(id.encrypt('120363025246125888@g.us', text('x'))).rejects.toBeInstanceOf(HarnessError);
      await expect(id.hasSession('bob')).rejects.toBeInstanceOf(HarnessError);
    });
  });

  describe('snapshot and restore', () => {
    it('restoring an old snapshot brings back the replay detection it had', async () => {
      const { alice, bob } = await talking();
      const m1 = await alice.encrypt(BOB, text('m1'));
      const m2 = await alice.encrypt(BOB, text('m2'));
      expectPlain(await bob.decrypt(ALICE, m1), 'm1');
      // Snapshots are plain data: they survive a structured clone (a worker, a file).
      const snap = structuredClone(await bob.snapshot());
      expect(snap.profile).toBe(profile.id);

      expectPlain(await bob.decrypt(ALICE, m2), 'm2');
      expectCode(await bob.decrypt(ALICE, m2), 'VIO_CRYPTO_DUPLICATE');

      await bob.restore(snap);
      expectCode(await bob.decrypt(ALICE, m1), 'VIO_CRYPTO_DUPLICATE');
      expectPlain(await bob.decrypt(ALICE, m2), 'm2');
      expectCode(await bob.decrypt(ALICE, m2), 'VIO_CRYPTO_DUPLICATE');

      // The same snapshot restores again: restoring did not tie the store to it.
      await bob.restore(snap);
      expectPlain(await bob.decrypt(ALICE, m2), 'm2');
      expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('still talking'))), 'still talking');
    });

    it('restores prekeys, identities, first-message records and id counters', async () => {
      const bob = await identity(2);
      const alice = await identity(1);
      const snap = await bob.snapshot();
      await alice.processBundle(BOB, bundleOf(bob, 0));
      const first = await alice.encrypt(BOB, text('first'));
      expectPlain(await bob.decrypt(ALICE, first), 'first');
      await bob.generatePreKeys(3);
      expect(bob.keyUpload().preKeys.map((k) => k.id)).toEqual([2, 3, 4, 5]);

      await bob.restore(snap);
      expect(bob.keyUpload().preKeys.map((k) => k.id)).toEqual([1, 2]);
      expect(await bob.knownIdentity(ALICE)).toBeUndefined();
      expect(await bob.hasSession(ALICE)).toBe(false);
      expect((await bob.generatePreKeys(1)).map((k) => k.id)).toEqual([3]);
      // Back before the first message: it decrypts again, once.
      expectPlain(await bob.decrypt(ALICE, first), 'first');
      expectCode(await bob.decrypt(ALICE, first), 'VIO_CRYPTO_DUPLICATE');
    });

    it("refuses another identity's or another profile's snapshot", async () => {
      const a = await identity(1);
      const b = await identity(1);
      await expect(a.restore(await b.snapshot())).rejects.toBeInstanceOf(HarnessError);
      const o = await other.createIdentity({ preKeyCount: 1 });
      await expect(a.restore(await o.snapshot())).rejects.toBeInstanceOf(HarnessError);
    });
  });

  describe('inspect', () => {
    it('shows a new ratchet key every turn, rising counters and previous counters', async () => {
      const { alice, bob } = await pair();
      const ratchetKeys: string[] = [];
      let turnLength = 1;
      for (let turn = 0; turn < 6; turn++) {
        const [from, to, toJid, fromJid] =
          turn % 2 === 0 ? [alice, bob, BOB, ALICE] : [bob, alice, ALICE, BOB];
        const views: Inspection[] = [];
        for (let i = 0; i < turnLength; i++) {
          const c = await from.encrypt(toJid, text(`t${turn}.${i}`));
          views.push(inspected(profile, c));
          expectPlain(await to.decrypt(fromJid, c), `t${turn}.${i}`);
        }
        expect(views.map((v) => v.counter)).toEqual(views.map((_, i) => i));
        expect(new Set(views.map((v) => hex(v.ratchetKey))).size).toBe(1);
        expect(views[0]?.version).toBe(profile.messageVersion);
        // Previous counter: the last counter of this side's previous sending chain.
        if (turn >= 2) expect(views[0]?.previousCounter).toBe(turnLength - 3);
        ratchetKeys.push(hex(views[0]?.ratchetKey));
        turnLength++;
      }
      expect(new Set(ratchetKeys).size).toBe(6);
    });

    it('base keys and one-time prekey ids never repeat across 20 new sessions', async () => {
      const bob = await identity(20);
      const bundles = Array.from({ length: 20 }, (_, i) => bundleOf(bob, i));
      const baseKeys = new Set<string>();
      const preKeyIds: number[] = [];
      for (const [i, b] of bundles.entries()) {
        const alice = await identity(1);
        await alice.processBundle(BOB, b);
        const first = await alice.encrypt(BOB, text(`session ${i}`));
        const view = inspected(profile, first);
        expect(view.type).toBe('pkmsg');
        expect(hex(view.identityKey)).toBe(hex(alice.identityKey));
        expect(view.registrationId).toBe(alice.registrationId);
        expect(view.signedPreKeyId).toBe(b.signedPreKey.id);
        if (profile.id === 'signal-pqxdh') expect(view.kyberPreKeyId).toBe(b.kyberPreKey?.id);
        else expect(view.kyberPreKeyId).toBeUndefined();
        baseKeys.add(hex(view.baseKey));
        preKeyIds.push(view.preKeyId ?? -1);
        expectPlain(
          await bob.decrypt(`49170000${String(i).padStart(4, '0')}@s.whatsapp.net`, first),
          `session ${i}`,
        );
      }
      expect(baseKeys.size).toBe(20);
      expect(preKeyIds).toEqual(bundles.map((b) => b.preKey?.id));
      expect(new Set(preKeyIds).size).toBe(20);
      expect(bob.keyUpload().preKeys).toHaveLength(0);
    });

    it('one sender starting over gets a new base key each time', async () => {
      const bob = await identity(5);
      const alice = await identity(1);
      const baseKeys = new Set<string>();
      for (let i = 0; i < 5; i++) {
        await alice.processBundle(BOB, bundleOf(bob, i));
        baseKeys.add(hex(inspected(profile, await alice.encrypt(BOB, text('x'))).baseKey));
      }
      expect(baseKeys.size).toBe(5);
    });
  });
});

describe('getProfile', () => {
  it('returns each registered profile and refuses an unknown id', () => {
    expect(getProfile('signal-pqxdh').messageVersion).toBe(4);
    expect(getProfile('signal-x3dh').messageVersion).toBe(3);
    expect(Object.keys(PROFILES).sort()).toEqual(['signal-pqxdh', 'signal-x3dh']);
    expect(() => getProfile('signal-v2' as never)).toThrow(HarnessError);
    expect(() => getProfile('toString' as never)).toThrow(HarnessError);
  });
});
