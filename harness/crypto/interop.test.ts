// signal-x3dh (on `libsignal`) against an independent v3 implementation
// (@privacyresearch/libsignal-protocol-typescript), both directions: first messages, replies,
// follow-ups, out-of-order delivery, and the harness rejecting what that client alters.

import { describe, expect, it } from 'vitest';
import { editSignalMessage } from './inspect-mutate.ts';
import type { Ciphertext, CryptoIdentity, CryptoViolationCode, Outcome, PublicBundle } from './profile.ts';
import { signalX3dh } from './signal-x3dh.ts';
import { PrivacyResearchClient } from './testing/privacyresearch.ts';

const HARNESS = '491701234567@s.whatsapp.net';
const CLIENT = '1-10853634039893@interop';
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function bundleOf(up: ReturnType<CryptoIdentity['keyUpload']>, preKeyIndex: number | null = 0): PublicBundle {
  const preKey = preKeyIndex === null ? undefined : up.preKeys[preKeyIndex];
  return {
    registrationId: up.registrationId,
    identityKey: up.identityKey,
    signedPreKey: up.signedPreKey,
    ...(preKey && { preKey }),
  };
}

function expectPlain(o: Outcome<Uint8Array>, s: string): void {
  if (!o.ok) expect.fail(`expected "${s}", got ${o.code}: ${o.message}`);
  expect(str(o.value)).toBe(s);
}

function expectCode(o: Outcome<unknown>, code: CryptoViolationCode): void {
  if (o.ok) expect.fail(`expected ${code}, but it succeeded`);
  expect(o.code, o.message).toBe(code);
}

async function parties() {
  const harness = await signalX3dh.createIdentity({ preKeyCount: 3 });
  const client = await PrivacyResearchClient.create({ preKeyCount: 3 });
  return { harness, client };
}

describe('signal-x3dh <-> @privacyresearch/libsignal-protocol-typescript', () => {
  it('the harness starts: first message, reply, follow-ups both ways', async () => {
    const { harness, client } = await parties();
    expect((await harness.processBundle(CLIENT, bundleOf(client.keyUpload()))).ok).toBe(true);

    const first = await harness.encrypt(CLIENT, text('hello from the harness'));
    expect(first.type).toBe('pkmsg');
    expect(str(await client.decrypt(HARNESS, first))).toBe('hello from the harness');

    const reply = await client.encrypt(HARNESS, text('hello from the client'));
    expect(reply.type).toBe('msg');
    expect(reply.bytes[0]).toBe(0x33);
    expectPlain(await harness.decrypt(CLIENT, reply), 'hello from the client');

    for (let i = 0; i < 3; i++) {
      const h = await harness.encrypt(CLIENT, text(`h${i}`));
      expect(h.type).toBe('msg');
      expect(str(await client.decrypt(HARNESS, h))).toBe(`h${i}`);
      const c = await client.encrypt(HARNESS, text(`c${i}`));
      expectPlain(await harness.decrypt(CLIENT, c), `c${i}`);
    }
    expect(
      Buffer.from((await client.knownIdentity(HARNESS)) ?? []).equals(Buffer.from(harness.identityKey)),
    ).toBe(true);
  });

  it('the client starts: first message, reply, follow-ups both ways', async () => {
    const { harness, client } = await parties();
    await client.processBundle(HARNESS, bundleOf(harness.keyUpload(), 1));

    const first = await client.encrypt(HARNESS, text('hello from the client'));
    expect(first.type).toBe('pkmsg');
    const view = signalX3dh.inspect(first);
    expect(view.ok && view.value.preKeyId).toBe(harness.keyUpload().preKeys[1]?.id);
    expect(view.ok && view.value.registrationId).toBe(client.registrationId);
    expectPlain(await harness.decrypt(CLIENT, first), 'hello from the client');
    expect(harness.keyUpload().preKeys.map((k) => k.id)).toEqual([1, 3]);

    const reply = await harness.encrypt(CLIENT, text('hello from the harness'));
    expect(reply.type).toBe('msg');
    expect(str(await client.decrypt(HARNESS, reply))).toBe('hello from the harness');

    for (let i = 0; i < 3; i++) {
      const c = await client.encrypt(HARNESS, text(`c${i}`));
      expect(c.type).toBe('msg');
      expectPlain(await harness.decrypt(CLIENT, c), `c${i}`);
      const h = await harness.encrypt(CLIENT, text(`h${i}`));
      expect(str(await client.decrypt(HARNESS, h))).toBe(`h${i}`);
    }
  });

  it('works without a one-time prekey, with several first messages before the reply', async () => {
    const { harness, client } = await parties();
    await client.processBundle(HARNESS, bundleOf(harness.keyUpload(), null));
    const firsts: Ciphertext[] = [];
    for (let i = 0; i < 3; i++) firsts.push(await client.encrypt(HARNESS, text(`f${i}`)));
    expect(firsts.every((f) => f.type === 'pkmsg')).toBe(true);
    for (const i of [2, 0, 1]) expectPlain(await harness.decrypt(CLIENT, firsts[i] as Ciphertext), `f${i}`);
    expectCode(await harness.decrypt(CLIENT, firsts[0] as Ciphertext), 'VIO_CRYPTO_DUPLICATE');
    expect(str(await client.decrypt(HARNESS, await harness.encrypt(CLIENT, text('ok'))))).toBe('ok');
  });

  it('decrypts the client out of order, across ratchet turns', async () => {
    const { harness, client } = await parties();
    await harness.processBundle(CLIENT, bundleOf(client.keyUpload()));
    await client.decrypt(HARNESS, await harness.encrypt(CLIENT, text('start')));
    const a = await client.encrypt(HARNESS, text('a'));
    const b = await client.encrypt(HARNESS, text('b'));
    expectPlain(await harness.decrypt(CLIENT, b), 'b');
    await client.decrypt(HARNESS, await harness.encrypt(CLIENT, text('turn')));
    const c = await client.encrypt(HARNESS, text('c'));
    expectPlain(await harness.decrypt(CLIENT, c), 'c');
    expectPlain(await harness.decrypt(CLIENT, a), 'a');
    expectCode(await harness.decrypt(CLIENT, a), 'VIO_CRYPTO_DUPLICATE');
  });

  it("rejects the client's message when it is altered, and keeps the session", async () => {
    const { harness, client } = await parties();
    await client.processBundle(HARNESS, bundleOf(harness.keyUpload()));
    expectPlain(await harness.decrypt(CLIENT, await client.encrypt(HARNESS, text('first'))), 'first');
    await client.decrypt(HARNESS, await harness.encrypt(CLIENT, text('reply')));
    const m = await client.encrypt(HARNESS, text('genuine'));
    expectCode(
      await harness.decrypt(CLIENT, { type: 'msg', bytes: editSignalMessage(m.bytes, { counter: 9 }) }),
      'VIO_CRYPTO_BAD_MAC',
    );
    expectPlain(await harness.decrypt(CLIENT, m), 'genuine');
  });

  it('a client identity change is UNTRUSTED_IDENTITY until the harness accepts it', async () => {
    const { harness, client } = await parties();
    await client.processBundle(HARNESS, bundleOf(harness.keyUpload(), 0));
    expectPlain(await harness.decrypt(CLIENT, await client.encrypt(HARNESS, text('old'))), 'old');
    const reinstalled = await PrivacyResearchClient.create();
    await reinstalled.processBundle(HARNESS, bundleOf(harness.keyUpload(), 0));
    const first = await reinstalled.encrypt(HARNESS, text('new'));
    expectCode(await harness.decrypt(CLIENT, first), 'VIO_CRYPTO_UNTRUSTED_IDENTITY');
    await harness.trustIdentity(CLIENT, reinstalled.identityKey);
    expectPlain(await harness.decrypt(CLIENT, first), 'new');
  });
});

// What the reference candidate's library does on its own, recorded so a change in a new
// version shows up here. These are the candidate's checks to add, not the harness's.
describe('the independent library, as it is', () => {
  it('accepts a first message from a changed identity when its store answers asynchronously', async () => {
    const client = await PrivacyResearchClient.create({ preKeyCount: 2 });
    const before = await signalX3dh.createIdentity({ preKeyCount: 1 });
    await before.processBundle(CLIENT, bundleOf(client.keyUpload(), 0));
    expect(str(await client.decrypt(HARNESS, await before.encrypt(CLIENT, text('one'))))).toBe('one');
    // Its session builder does not await isTrustedIdentity on incoming first messages, and the
    // store interface it declares is asynchronous: the pending promise counts as "trusted".
    const changed = await signalX3dh.createIdentity({ preKeyCount: 1 });
    await changed.processBundle(CLIENT, bundleOf(client.keyUpload(), 1));
    expect(str(await client.decrypt(HARNESS, await changed.encrypt(CLIENT, text('two'))))).toBe('two');
    expect(
      Buffer.from((await client.knownIdentity(HARNESS)) ?? []).equals(Buffer.from(changed.identityKey)),
    ).toBe(true);
  });

  it('reports a first message naming a used one-time prekey as a MAC failure', async () => {
    const client = await PrivacyResearchClient.create({ preKeyCount: 1 });
    const a = await signalX3dh.createIdentity({ preKeyCount: 1 });
    const b = await signalX3dh.createIdentity({ preKeyCount: 1 });
    await a.processBundle(CLIENT, bundleOf(client.keyUpload(), 0));
    await b.processBundle(CLIENT, bundleOf(client.keyUpload(), 0));
    await client.decrypt(HARNESS, await a.encrypt(CLIENT, text('uses the prekey')));
    await expect(
      client.decrypt('491700000000@s.whatsapp.net', await b.encrypt(CLIENT, text('too late'))),
    ).rejects.toThrow('Bad MAC');
  });
});
