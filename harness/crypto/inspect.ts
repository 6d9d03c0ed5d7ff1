// Reads a Signal ciphertext without decrypting it (docs/PROFILE.md §6, "On the wire").
//
// `msg`:   version byte || SignalMessage protobuf || 8-byte MAC
// `pkmsg`: version byte || PreKeySignalMessage protobuf, whose `message` is a whole `msg`
//
// Scenarios use the result to check what a candidate's ciphertexts reveal (the ratchet key
// must change every turn, counters must rise, base keys must never repeat), and the profiles
// parse every ciphertext with it before the library sees it, so malformed input gets one
// answer whichever library sits underneath.

import protobuf from 'protobufjs/light.js';
import type { Ciphertext, CiphertextType, CryptoViolationCode, Inspection, Outcome } from './profile.ts';

/** Curve25519 public keys inside the protobufs carry this type byte (33 bytes in all). */
export const DJB_TYPE = 0x05;
export const MAC_LENGTH = 8;

// Field numbers of libsignal's wire.proto. Field 5 of SignalMessage (v4's post-quantum
// ratchet payload) is left out on purpose: the decoder skips it, and nothing here reads it.
export const SignalMessageProto = new protobuf.Type('SignalMessage')
  .add(new protobuf.Field('ratchetKey', 1, 'bytes'))
  .add(new protobuf.Field('counter', 2, 'uint32'))
  .add(new protobuf.Field('previousCounter', 3, 'uint32'))
  .add(new protobuf.Field('ciphertext', 4, 'bytes'));

export const PreKeySignalMessageProto = new protobuf.Type('PreKeySignalMessage')
  .add(new protobuf.Field('preKeyId', 1, 'uint32'))
  .add(new protobuf.Field('baseKey', 2, 'bytes'))
  .add(new protobuf.Field('identityKey', 3, 'bytes'))
  .add(new protobuf.Field('message', 4, 'bytes'))
  .add(new protobuf.Field('registrationId', 5, 'uint32'))
  .add(new protobuf.Field('signedPreKeyId', 6, 'uint32'))
  .add(new protobuf.Field('kyberPreKeyId', 7, 'uint32'))
  .add(new protobuf.Field('kyberCiphertext', 8, 'bytes'));

new protobuf.Root().add(SignalMessageProto).add(PreKeySignalMessageProto);

export interface ParsedSignalMessage {
  /** The whole version byte; the message version is its high nibble. */
  readonly versionByte: number;
  /** Raw 32 bytes (the type byte stripped). */
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  readonly previousCounter: number;
  readonly ciphertext: Uint8Array;
  readonly mac: Uint8Array;
}

export interface ParsedPreKeyMessage {
  readonly versionByte: number;
  readonly registrationId?: number;
  readonly preKeyId?: number;
  readonly signedPreKeyId: number;
  readonly kyberPreKeyId?: number;
  readonly kyberCiphertext?: Uint8Array;
  /** Raw 32 bytes each. */
  readonly baseKey: Uint8Array;
  readonly identityKey: Uint8Array;
  readonly message: ParsedSignalMessage;
}

export type ParsedCiphertext =
  | { readonly type: 'msg'; readonly message: ParsedSignalMessage }
  | { readonly type: 'pkmsg'; readonly preKey: ParsedPreKeyMessage; readonly message: ParsedSignalMessage };

type Decoded = Record<string, unknown>;

class Invalid extends Error {
  constructor(
    readonly code: CryptoViolationCode,
    message: string,
  ) {
    super(message);
  }
}

function fail(code: CryptoViolationCode, message: string): never {
  throw new Invalid(code, message);
}

function versionOf(bytes: Uint8Array, what: string): number {
  const byte = bytes[0];
  if (byte === undefined) fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} is empty`);
  const version = byte >> 4;
  // 3 and 4 share one layout; anything else is a version neither profile speaks.
  if (version !== 3 && version !== 4) {
    fail(
      'VIO_CRYPTO_UNSUPPORTED_VERSION',
      `${what} has version byte 0x${hex2(byte)} (message version ${version})`,
    );
  }
  return byte;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

// A strict reading, field by field with the reflection table: a known field with the wrong
// wire type is an error, as it is for libsignal-client's decoder (prost). protobufjs's own
// decoder skips such a field, and libsignal-node's reads it as if the type were right, so
// left to them the same bytes would mean three different things.
function decode(type: protobuf.Type, data: Uint8Array, what: string): Decoded {
  const out: Decoded = {};
  try {
    const r = protobuf.Reader.create(data);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const wire = tag & 7;
      const field = type.fieldsById[tag >>> 3];
      if (field === undefined) {
        r.skipType(wire);
        continue;
      }
      const isBytes = field.type === 'bytes';
      if (wire !== (isBytes ? 2 : 0)) {
        fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} field ${field.name} has wire type ${wire}`);
      }
      out[field.name] = isBytes ? r.bytes() : r.uint32();
    }
  } catch (e) {
    if (e instanceof Invalid) throw e;
    fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} is not a valid protobuf: ${(e as Error).message}`);
  }
  return out;
}

function uint(d: Decoded, field: string): number | undefined {
  return Object.hasOwn(d, field) ? (d[field] as number) : undefined;
}

// Views into the caller's bytes: decrypting parses every ciphertext, and copying its payload
// only to drop it would cost more than the parse. inspectCiphertext copies what it returns.
function bytes(d: Decoded, field: string): Uint8Array | undefined {
  return Object.hasOwn(d, field) ? (d[field] as Uint8Array) : undefined;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} is missing`);
  return value;
}

function publicKey(d: Decoded, field: string, what: string): Uint8Array {
  const key = required(bytes(d, field), what);
  if (key.length !== 33 || key[0] !== DJB_TYPE) {
    fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} is not a 33-byte Curve25519 key with type 0x05`);
  }
  return key.subarray(1);
}

function parseSignalMessage(data: Uint8Array, what: string): ParsedSignalMessage {
  const versionByte = versionOf(data, what);
  if (data.length < 1 + MAC_LENGTH + 1) fail('VIO_CRYPTO_INVALID_MESSAGE', `${what} is too short`);
  const d = decode(SignalMessageProto, data.subarray(1, data.length - MAC_LENGTH), what);
  return {
    versionByte,
    ratchetKey: publicKey(d, 'ratchetKey', `${what} ratchetKey`),
    counter: required(uint(d, 'counter'), `${what} counter`),
    previousCounter: uint(d, 'previousCounter') ?? 0,
    ciphertext: required(bytes(d, 'ciphertext'), `${what} ciphertext`),
    mac: data.subarray(data.length - MAC_LENGTH),
  };
}

function parsePreKeyMessage(data: Uint8Array): ParsedPreKeyMessage {
  const versionByte = versionOf(data, 'pkmsg');
  const d = decode(PreKeySignalMessageProto, data.subarray(1), 'pkmsg');
  const inner = required(bytes(d, 'message'), 'pkmsg message');
  const message = parseSignalMessage(inner, 'pkmsg message');
  const registrationId = uint(d, 'registrationId');
  const preKeyId = uint(d, 'preKeyId');
  const kyberPreKeyId = uint(d, 'kyberPreKeyId');
  const kyberCiphertext = bytes(d, 'kyberCiphertext');
  if ((kyberPreKeyId === undefined) !== (kyberCiphertext === undefined)) {
    fail(
      'VIO_CRYPTO_INVALID_MESSAGE',
      'pkmsg has one of kyberPreKeyId and kyberCiphertext without the other',
    );
  }
  // PQXDH is what makes a message version 4: without the Kyber fields it is not one.
  if (versionByte >> 4 === 4 && kyberPreKeyId === undefined) {
    fail('VIO_CRYPTO_INVALID_MESSAGE', 'a version 4 pkmsg without the Kyber prekey fields');
  }
  return {
    versionByte,
    signedPreKeyId: required(uint(d, 'signedPreKeyId'), 'pkmsg signedPreKeyId'),
    baseKey: publicKey(d, 'baseKey', 'pkmsg baseKey'),
    identityKey: publicKey(d, 'identityKey', 'pkmsg identityKey'),
    message,
    ...(registrationId !== undefined && { registrationId }),
    ...(preKeyId !== undefined && { preKeyId }),
    ...(kyberPreKeyId !== undefined && { kyberPreKeyId }),
    ...(kyberCiphertext !== undefined && { kyberCiphertext }),
  };
}

/** Parses a ciphertext of either type; never throws. Byte fields are views into the input. */
export function parseCiphertext(ciphertext: Ciphertext): Outcome<ParsedCiphertext> {
  try {
    const type: CiphertextType = ciphertext.type;
    if (type === 'msg') {
      return { ok: true, value: { type, message: parseSignalMessage(ciphertext.bytes, 'msg') } };
    }
    if (type === 'pkmsg') {
      const preKey = parsePreKeyMessage(ciphertext.bytes);
      return { ok: true, value: { type, preKey, message: preKey.message } };
    }
    return {
      ok: false,
      code: 'VIO_CRYPTO_INVALID_MESSAGE',
      message: `unknown ciphertext type ${String(type)}`,
    };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

export function inspectCiphertext(ciphertext: Ciphertext): Outcome<Inspection> {
  const parsed = parseCiphertext(ciphertext);
  if (!parsed.ok) return parsed;
  const p = parsed.value;
  const m = p.message;
  const base: Inspection = {
    version: m.versionByte >> 4,
    type: p.type,
    ratchetKey: new Uint8Array(m.ratchetKey),
    counter: m.counter,
    previousCounter: m.previousCounter,
  };
  if (p.type === 'msg') return { ok: true, value: base };
  const { registrationId, preKeyId, kyberPreKeyId, baseKey, identityKey, signedPreKeyId } = p.preKey;
  return {
    ok: true,
    value: {
      ...base,
      version: p.preKey.versionByte >> 4,
      baseKey: new Uint8Array(baseKey),
      identityKey: new Uint8Array(identityKey),
      signedPreKeyId,
      ...(registrationId !== undefined && { registrationId }),
      ...(preKeyId !== undefined && { preKeyId }),
      ...(kyberPreKeyId !== undefined && { kyberPreKeyId }),
    },
  };
}

/**
 * The profiles' gate before any library call: the version byte first (a downgrade or upgrade
 * is answered as such, whatever follows it), then the structure, then the inner message's
 * version byte. The whole byte must match, not only its high nibble: libsignal-node leaves the
 * low nibble out of the MAC, so a flipped low nibble would otherwise decrypt.
 */
export function parseForProfile(ciphertext: Ciphertext, versionByte: number): Outcome<ParsedCiphertext> {
  const first = ciphertext.bytes[0];
  if (first !== undefined && first !== versionByte) {
    return {
      ok: false,
      code: 'VIO_CRYPTO_UNSUPPORTED_VERSION',
      message: `${ciphertext.type} has version byte 0x${hex2(first)}; the profile speaks 0x${hex2(versionByte)}`,
    };
  }
  const parsed = parseCiphertext(ciphertext);
  if (!parsed.ok) return parsed;
  const inner = parsed.value.message.versionByte;
  if (inner !== versionByte) {
    return {
      ok: false,
      code: 'VIO_CRYPTO_UNSUPPORTED_VERSION',
      message: `the message inside the pkmsg has version byte 0x${hex2(inner)}; the profile speaks 0x${hex2(versionByte)}`,
    };
  }
  return parsed;
}
