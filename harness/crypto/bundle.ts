// Key material <-> stanza children (docs/PROFILE.md §4.4).
//
// Upload (children of `<iq xmlns="encrypt" type="set">`): registration, type, identity,
// list of one-time prekeys, skey, and kyber for signal-pqxdh. A fetched bundle (`<user jid>` in
// the result's `<list>`): registration, type, identity, skey, at most one key, maybe kyber.
// Ids are 3 bytes big-endian, the registration id 4 bytes big-endian, public keys raw.
//
// The schemas check the shape of a stanza; the readers here check what the harness relies on
// (byte lengths, the key type, one of each element) and answer VIO_CRYPTO_INVALID_BUNDLE, so a
// caller never handles a half-read bundle. Signatures are checked by the profile, which has
// the curve.

import { HarnessError } from '../codes.ts';
import type { StanzaNode } from '../xml/node.ts';
import { bytesOf, childrenOf, el } from '../xml/node.ts';
import type {
  KeyUpload,
  KyberPreKeyPublic,
  Outcome,
  PreKeyPublic,
  PublicBundle,
  SignedPreKeyPublic,
} from './profile.ts';

export const KEY_TYPE_DJB = 0x05;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
/** Kyber-1024 public key with its type byte. */
export const KYBER_PUBLIC_KEY_LENGTH = 1569;
export const MAX_PREKEY_ID = 0xffffff;
export const MAX_REGISTRATION_ID = 0xffffffff;

// ---- writing -------------------------------------------------------------------------------

function uint32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_REGISTRATION_ID) {
    throw new HarnessError('HRN_ERR_INTERNAL', `registration id out of the uint32 range: ${n}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function uint24(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_PREKEY_ID) {
    throw new HarnessError('HRN_ERR_INTERNAL', `prekey id out of the 3-byte range: ${n}`);
  }
  return Uint8Array.of(n >>> 16, (n >>> 8) & 0xff, n & 0xff);
}

export function preKeyNode(key: PreKeyPublic): StanzaNode {
  return el('key', {}, [el('id', {}, uint24(key.id)), el('value', {}, key.publicKey)]);
}

export function signedPreKeyNode(key: SignedPreKeyPublic): StanzaNode {
  return el('skey', {}, [
    el('id', {}, uint24(key.id)),
    el('value', {}, key.publicKey),
    el('signature', {}, key.signature),
  ]);
}

export function kyberPreKeyNode(key: KyberPreKeyPublic): StanzaNode {
  return el('kyber', {}, [
    el('id', {}, uint24(key.id)),
    el('value', {}, key.publicKey),
    el('signature', {}, key.signature),
  ]);
}

function identityNodes(registrationId: number, identityKey: Uint8Array): StanzaNode[] {
  return [
    el('registration', {}, uint32(registrationId)),
    el('type', {}, Uint8Array.of(KEY_TYPE_DJB)),
    el('identity', {}, identityKey),
  ];
}

/** Children of the upload iq, in the profile's order. */
export function uploadToNodes(upload: KeyUpload): StanzaNode[] {
  const nodes = [
    ...identityNodes(upload.registrationId, upload.identityKey),
    el('list', {}, upload.preKeys.map(preKeyNode)),
    signedPreKeyNode(upload.signedPreKey),
  ];
  if (upload.kyberPreKey) nodes.push(kyberPreKeyNode(upload.kyberPreKey));
  return nodes;
}

/** One `<user jid>` of a fetch result. */
export function bundleToUserNode(jid: string, bundle: PublicBundle): StanzaNode {
  const nodes = [
    ...identityNodes(bundle.registrationId, bundle.identityKey),
    signedPreKeyNode(bundle.signedPreKey),
  ];
  if (bundle.preKey) nodes.push(preKeyNode(bundle.preKey));
  if (bundle.kyberPreKey) nodes.push(kyberPreKeyNode(bundle.kyberPreKey));
  return el('user', { jid }, nodes);
}

// ---- reading -------------------------------------------------------------------------------

class BadBundle extends Error {}

function bad(message: string): never {
  throw new BadBundle(message);
}

function children(node: StanzaNode, tag: string): StanzaNode[] {
  return childrenOf(node).filter((c) => c.tag === tag);
}

function one(node: StanzaNode, tag: string, path: string): StanzaNode {
  const found = children(node, tag);
  if (found.length !== 1) bad(`${path}/${tag}: expected exactly one, found ${found.length}`);
  return found[0] as StanzaNode;
}

function optional(node: StanzaNode, tag: string, path: string): StanzaNode | undefined {
  const found = children(node, tag);
  if (found.length > 1) bad(`${path}/${tag}: expected at most one, found ${found.length}`);
  return found[0];
}

function fixed(node: StanzaNode, length: number, path: string): Uint8Array {
  const b = bytesOf(node);
  if (b === undefined || b.length !== length) {
    bad(`${path}: expected ${length} bytes, found ${b === undefined ? 'no bytes' : b.length}`);
  }
  return Uint8Array.from(b);
}

function readId(node: StanzaNode, path: string): number {
  const b = fixed(one(node, 'id', path), 3, `${path}/id`);
  return ((b[0] as number) << 16) | ((b[1] as number) << 8) | (b[2] as number);
}

function readPreKey(node: StanzaNode, path: string): PreKeyPublic {
  return {
    id: readId(node, path),
    publicKey: fixed(one(node, 'value', path), PUBLIC_KEY_LENGTH, `${path}/value`),
  };
}

export function signedPreKeyFromNode(node: StanzaNode, path = '/skey'): SignedPreKeyPublic {
  return {
    ...readPreKey(node, path),
    signature: fixed(one(node, 'signature', path), SIGNATURE_LENGTH, `${path}/signature`),
  };
}

export function kyberPreKeyFromNode(node: StanzaNode, path = '/kyber'): KyberPreKeyPublic {
  return {
    id: readId(node, path),
    publicKey: fixed(one(node, 'value', path), KYBER_PUBLIC_KEY_LENGTH, `${path}/value`),
    signature: fixed(one(node, 'signature', path), SIGNATURE_LENGTH, `${path}/signature`),
  };
}

function readIdentity(node: StanzaNode, path: string): { registrationId: number; identityKey: Uint8Array } {
  const reg = fixed(one(node, 'registration', path), 4, `${path}/registration`);
  const type = fixed(one(node, 'type', path), 1, `${path}/type`);
  if (type[0] !== KEY_TYPE_DJB) bad(`${path}/type: key type 0x${type[0]?.toString(16)}, expected 0x05`);
  return {
    registrationId: new DataView(reg.buffer).getUint32(0),
    identityKey: fixed(one(node, 'identity', path), PUBLIC_KEY_LENGTH, `${path}/identity`),
  };
}

function outcome<T>(read: () => T): Outcome<T> {
  try {
    return { ok: true, value: read() };
  } catch (e) {
    if (e instanceof BadBundle) return { ok: false, code: 'VIO_CRYPTO_INVALID_BUNDLE', message: e.message };
    throw e;
  }
}

/** Reads the children of an upload iq (the server's side of §4.4). */
export function uploadFromNodes(iq: StanzaNode): Outcome<KeyUpload> {
  return outcome(() => {
    const path = `/${iq.tag}`;
    const list = one(iq, 'list', path);
    const preKeys = children(list, 'key').map((k, i) => readPreKey(k, `${path}/list/key[${i + 1}]`));
    const kyber = optional(iq, 'kyber', path);
    return {
      ...readIdentity(iq, path),
      preKeys,
      signedPreKey: signedPreKeyFromNode(one(iq, 'skey', path), `${path}/skey`),
      ...(kyber && { kyberPreKey: kyberPreKeyFromNode(kyber, `${path}/kyber`) }),
    };
  });
}

/** Reads one `<user jid>` of a fetch result (the candidate's or a peer's side of §4.4). */
export function bundleFromUserNode(node: StanzaNode): Outcome<PublicBundle> {
  return outcome(() => {
    const path = `/user[@jid=${node.attrs.jid ?? ''}]`;
    if (node.tag !== 'user') bad(`expected <user>, found <${node.tag}>`);
    const key = optional(node, 'key', path);
    const kyber = optional(node, 'kyber', path);
    return {
      ...readIdentity(node, path),
      signedPreKey: signedPreKeyFromNode(one(node, 'skey', path), `${path}/skey`),
      ...(key && { preKey: readPreKey(key, `${path}/key`) }),
      ...(kyber && { kyberPreKey: kyberPreKeyFromNode(kyber, `${path}/kyber`) }),
    };
  });
}

/**
 * What a profile checks before a bundle reaches its library: every key and signature has its
 * length and the registration id is a uint32. Returns what is wrong, or undefined.
 */
export function checkBundleLengths(b: PublicBundle): string | undefined {
  if (b.identityKey.length !== PUBLIC_KEY_LENGTH) return 'the identity key is not 32 bytes';
  if (b.signedPreKey.publicKey.length !== PUBLIC_KEY_LENGTH) return 'the signed prekey is not 32 bytes';
  if (b.signedPreKey.signature.length !== SIGNATURE_LENGTH)
    return 'the signed prekey signature is not 64 bytes';
  if (!isPreKeyId(b.signedPreKey.id)) return 'the signed prekey id is not a 3-byte id';
  if (b.preKey && b.preKey.publicKey.length !== PUBLIC_KEY_LENGTH)
    return 'the one-time prekey is not 32 bytes';
  if (b.preKey && !isPreKeyId(b.preKey.id)) return 'the one-time prekey id is not a 3-byte id';
  if (b.kyberPreKey) {
    if (b.kyberPreKey.publicKey.length !== KYBER_PUBLIC_KEY_LENGTH)
      return 'the Kyber prekey is not 1569 bytes';
    if (b.kyberPreKey.signature.length !== SIGNATURE_LENGTH)
      return 'the Kyber prekey signature is not 64 bytes';
    if (!isPreKeyId(b.kyberPreKey.id)) return 'the Kyber prekey id is not a 3-byte id';
  }
  if (!Number.isInteger(b.registrationId) || b.registrationId < 0 || b.registrationId > MAX_REGISTRATION_ID) {
    return 'the registration id is not a uint32';
  }
  return undefined;
}

function isPreKeyId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= MAX_PREKEY_ID;
}
