import { describe, expect, it } from 'vitest';
import { checkFrame } from '../schema/check.ts';
import type { StanzaNode } from '../xml/node.ts';
import { childrenOf, el } from '../xml/node.ts';
import { serializeStanza } from '../xml/serialize.ts';
import {
  bundleFromUserNode,
  bundleToUserNode,
  checkBundleLengths,
  kyberPreKeyFromNode,
  signedPreKeyFromNode,
  uploadFromNodes,
  uploadToNodes,
} from './bundle.ts';
import type { CryptoViolationCode, KeyUpload, Outcome, PublicBundle } from './profile.ts';
import { PROFILES } from './profiles.ts';

const BOB = '491701234567@s.whatsapp.net';

function uploadIq(children: StanzaNode[]): StanzaNode {
  return el('iq', { id: 'k1', xmlns: 'encrypt', type: 'set', to: 's.whatsapp.net' }, children);
}

function resultIq(users: StanzaNode[]): StanzaNode {
  return el('iq', { id: 'k3', type: 'result', from: 's.whatsapp.net' }, [el('list', {}, users)]);
}

function expectValid(node: StanzaNode, kind: string): void {
  const r = checkFrame(serializeStanza(node));
  expect(r.violations).toEqual([]);
  expect(r.kind).toBe(kind);
}

function expectBad(o: Outcome<unknown>, text: RegExp): void {
  if (o.ok) expect.fail('expected VIO_CRYPTO_INVALID_BUNDLE');
  const code: CryptoViolationCode = 'VIO_CRYPTO_INVALID_BUNDLE';
  expect(o.code).toBe(code);
  expect(o.message).toMatch(text);
}

function bundleFrom(up: KeyUpload, withPreKey: boolean): PublicBundle {
  return {
    registrationId: up.registrationId,
    identityKey: up.identityKey,
    signedPreKey: up.signedPreKey,
    ...(withPreKey && up.preKeys[0] && { preKey: up.preKeys[0] }),
    ...(up.kyberPreKey && { kyberPreKey: up.kyberPreKey }),
  };
}

/** A node with one child replaced (by tag), removed (undefined) or duplicated. */
function withChild(node: StanzaNode, tag: string, replacement: StanzaNode | undefined | 'twice'): StanzaNode {
  const children = childrenOf(node).flatMap((c) => {
    if (c.tag !== tag) return [c];
    if (replacement === 'twice') return [c, c];
    return replacement === undefined ? [] : [replacement];
  });
  return { ...node, content: children };
}

describe.each(Object.values(PROFILES))('$id key material in stanzas', (profile) => {
  it('writes an upload the schema accepts, in the order of the profile, and reads it back', async () => {
    const id = await profile.createIdentity({
      preKeyCount: 3,
      registrationId: 0xfedcba98,
      firstPreKeyId: 0x123456,
    });
    const up = id.keyUpload();
    const nodes = uploadToNodes(up);
    const tags = nodes.map((n) => n.tag);
    expect(tags).toEqual([
      'registration',
      'type',
      'identity',
      'list',
      'skey',
      ...(up.kyberPreKey ? ['kyber'] : []),
    ]);
    expect(Buffer.from(nodes[0]?.content as Uint8Array).toString('hex')).toBe('fedcba98');
    expect(Buffer.from(nodes[1]?.content as Uint8Array).toString('hex')).toBe('05');
    const firstKeyId = childrenOf(childrenOf(nodes[3] as StanzaNode)[0] as StanzaNode)[0];
    expect(Buffer.from(firstKeyId?.content as Uint8Array).toString('hex')).toBe('123456');

    expectValid(uploadIq(nodes), 'iq.encrypt.upload');
    expect(uploadFromNodes(uploadIq(nodes))).toEqual({ ok: true, value: up });
  });

  it('writes the 812-key first upload within the codec limits', async () => {
    const id = await profile.createIdentity();
    expectValid(uploadIq(uploadToNodes(id.keyUpload())), 'iq.encrypt.upload');
  });

  it('writes bundles the schema accepts, with and without a one-time prekey, and reads them back', async () => {
    const up = (await profile.createIdentity({ preKeyCount: 1, registrationId: 2 ** 31 + 5 })).keyUpload();
    const users = [true, false].map((withPreKey) => {
      const bundle = bundleFrom(up, withPreKey);
      const node = bundleToUserNode(BOB, bundle);
      expect(bundleFromUserNode(node)).toEqual({ ok: true, value: bundle });
      expect(childrenOf(node).some((c) => c.tag === 'key')).toBe(withPreKey);
      return node;
    });
    expectValid(resultIq(users), 'iq.result');
  });

  it('reads what the schema and the profile check: lengths, key type, one of each', async () => {
    const up = (await profile.createIdentity({ preKeyCount: 1 })).keyUpload();
    const user = bundleToUserNode(BOB, bundleFrom(up, true));
    expectBad(
      bundleFromUserNode(withChild(user, 'identity', el('identity', {}, new Uint8Array(33)))),
      /identity: expected 32 bytes, found 33/,
    );
    expectBad(
      bundleFromUserNode(withChild(user, 'identity', undefined)),
      /identity: expected exactly one, found 0/,
    );
    expectBad(bundleFromUserNode(withChild(user, 'skey', 'twice')), /skey: expected exactly one, found 2/);
    expectBad(bundleFromUserNode(withChild(user, 'key', 'twice')), /key: expected at most one, found 2/);
    expectBad(bundleFromUserNode(withChild(user, 'type', el('type', {}, Uint8Array.of(6)))), /key type 0x6/);
    expectBad(
      bundleFromUserNode(withChild(user, 'registration', el('registration', {}, Uint8Array.of(1, 2, 3)))),
      /registration: expected 4 bytes/,
    );
    expectBad(bundleFromUserNode(withChild(user, 'registration', el('registration'))), /no bytes/);
    const skey = el('skey', {}, [el('id', {}, Uint8Array.of(0, 0, 1)), el('value', {}, new Uint8Array(32))]);
    expectBad(bundleFromUserNode(withChild(user, 'skey', skey)), /skey\/signature: expected exactly one/);
    expectBad(bundleFromUserNode({ ...user, tag: 'item' }), /expected <user>/);
  });

  it('reads an upload with an empty list of one-time prekeys', async () => {
    const up = { ...(await profile.createIdentity({ preKeyCount: 0 })).keyUpload() };
    expect(up.preKeys).toEqual([]);
    const iq = uploadIq(uploadToNodes(up));
    expectValid(iq, 'iq.encrypt.upload');
    expect(uploadFromNodes(iq)).toEqual({ ok: true, value: up });
    expectBad(uploadFromNodes(withChild(iq, 'list', undefined)), /list: expected exactly one/);
  });
});

describe('single elements', () => {
  it('reads 3-byte ids big-endian', () => {
    const node = el('skey', {}, [
      el('id', {}, Uint8Array.of(0xab, 0xcd, 0xef)),
      el('value', {}, new Uint8Array(32)),
      el('signature', {}, new Uint8Array(64)),
    ]);
    expect(signedPreKeyFromNode(node).id).toBe(0xabcdef);
    expect(() => signedPreKeyFromNode({ ...node, content: [] })).toThrow();
  });

  it('wants a Kyber value of 1569 bytes', () => {
    const kyber = (n: number) =>
      el('kyber', {}, [
        el('id', {}, Uint8Array.of(0, 0, 1)),
        el('value', {}, new Uint8Array(n)),
        el('signature', {}, new Uint8Array(64)),
      ]);
    expect(kyberPreKeyFromNode(kyber(1569)).publicKey).toHaveLength(1569);
    expect(() => kyberPreKeyFromNode(kyber(1568))).toThrow(/1569 bytes/);
  });

  it('refuses to write ids and registration ids out of range', () => {
    const up: KeyUpload = {
      registrationId: 2 ** 32,
      identityKey: new Uint8Array(32),
      signedPreKey: { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
      preKeys: [],
    };
    expect(() => uploadToNodes(up)).toThrow(/uint32/);
    expect(() =>
      uploadToNodes({
        ...up,
        registrationId: 1,
        preKeys: [{ id: 0x1000000, publicKey: new Uint8Array(32) }],
      }),
    ).toThrow(/3-byte/);
  });
});

describe('checkBundleLengths', () => {
  const good: PublicBundle = {
    registrationId: 0xffffffff,
    identityKey: new Uint8Array(32),
    signedPreKey: { id: 0xffffff, publicKey: new Uint8Array(32), signature: new Uint8Array(64) },
    preKey: { id: 1, publicKey: new Uint8Array(32) },
    kyberPreKey: { id: 1, publicKey: new Uint8Array(1569), signature: new Uint8Array(64) },
  };

  it('accepts a bundle of the right lengths and names the first wrong one', () => {
    expect(checkBundleLengths(good)).toBeUndefined();
    expect(checkBundleLengths({ ...good, registrationId: 2 ** 32 })).toMatch(/uint32/);
    expect(checkBundleLengths({ ...good, signedPreKey: { ...good.signedPreKey, id: 0x1000000 } })).toMatch(
      /3-byte/,
    );
    expect(
      checkBundleLengths({
        ...good,
        kyberPreKey: { id: 1, publicKey: new Uint8Array(1569), signature: new Uint8Array(1) },
      }),
    ).toMatch(/Kyber prekey signature/);
  });
});
