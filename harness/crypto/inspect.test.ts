// The wire reader on hand-built messages (known answers) and on arbitrary bytes (it never
// throws), plus the mutation helpers scenarios use to alter real ciphertexts.

import fc from 'fast-check';
import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { inspectCiphertext, parseCiphertext, parseForProfile } from './inspect.ts';
import {
  editInnerMessage,
  editPreKeyMessage,
  editSignalMessage,
  flipBit,
  truncated,
  withVersionByte,
} from './inspect-mutate.ts';
import type { Ciphertext, CryptoViolationCode, Outcome } from './profile.ts';

const key = (fill: number) => Uint8Array.of(0x05, ...new Uint8Array(32).fill(fill));
const MAC = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

interface SignalFields {
  ratchetKey?: Uint8Array;
  counter?: number;
  previousCounter?: number;
  ciphertext?: Uint8Array;
}

function signalMessage(version: number, f: SignalFields, extra?: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create();
  if (f.ratchetKey) w.uint32(10).bytes(f.ratchetKey);
  if (f.counter !== undefined) w.uint32(16).uint32(f.counter);
  if (f.previousCounter !== undefined) w.uint32(24).uint32(f.previousCounter);
  if (f.ciphertext) w.uint32(34).bytes(f.ciphertext);
  extra?.(w);
  return Buffer.concat([Uint8Array.of(version), w.finish(), MAC]);
}

const goodMessage = (version = 0x33, extra?: (w: protobuf.Writer) => void) =>
  signalMessage(
    version,
    { ratchetKey: key(7), counter: 5, previousCounter: 3, ciphertext: new Uint8Array(16).fill(9) },
    extra,
  );

interface PreKeyFields {
  preKeyId?: number;
  baseKey?: Uint8Array;
  identityKey?: Uint8Array;
  message?: Uint8Array;
  registrationId?: number;
  signedPreKeyId?: number;
  kyberPreKeyId?: number;
  kyberCiphertext?: Uint8Array;
}

function preKeyMessage(version: number, f: PreKeyFields): Uint8Array {
  const w = protobuf.Writer.create();
  if (f.preKeyId !== undefined) w.uint32(8).uint32(f.preKeyId);
  if (f.baseKey) w.uint32(18).bytes(f.baseKey);
  if (f.identityKey) w.uint32(26).bytes(f.identityKey);
  if (f.message) w.uint32(34).bytes(f.message);
  if (f.registrationId !== undefined) w.uint32(40).uint32(f.registrationId);
  if (f.signedPreKeyId !== undefined) w.uint32(48).uint32(f.signedPreKeyId);
  if (f.kyberPreKeyId !== undefined) w.uint32(56).uint32(f.kyberPreKeyId);
  if (f.kyberCiphertext) w.uint32(66).bytes(f.kyberCiphertext);
  return Buffer.concat([Uint8Array.of(version), w.finish()]);
}

const goodPreKey = (version = 0x33): PreKeyFields => ({
  preKeyId: 812,
  baseKey: key(1),
  identityKey: key(2),
  message: goodMessage(version),
  registrationId: 0xfffffffe,
  signedPreKeyId: 3,
  ...(version === 0x44 && { kyberPreKeyId: 4, kyberCiphertext: new Uint8Array(1569).fill(8) }),
});

function expectCode(o: Outcome<unknown>, code: CryptoViolationCode, text?: RegExp): void {
  if (o.ok) expect.fail(`expected ${code}, but it parsed`);
  expect(o.code, o.message).toBe(code);
  if (text) expect(o.message).toMatch(text);
}

const msg = (bytes: Uint8Array): Ciphertext => ({ type: 'msg', bytes });
const pkmsg = (bytes: Uint8Array): Ciphertext => ({ type: 'pkmsg', bytes });

describe('inspectCiphertext', () => {
  it('reads a msg: version, raw ratchet key, counters', () => {
    const i = inspectCiphertext(msg(goodMessage()));
    expect(i).toEqual({
      ok: true,
      value: {
        version: 3,
        type: 'msg',
        ratchetKey: new Uint8Array(32).fill(7),
        counter: 5,
        previousCounter: 3,
      },
    });
  });

  it('reads a pkmsg: the outer fields and the inner message', () => {
    const i = inspectCiphertext(pkmsg(preKeyMessage(0x33, goodPreKey())));
    expect(i).toEqual({
      ok: true,
      value: {
        version: 3,
        type: 'pkmsg',
        ratchetKey: new Uint8Array(32).fill(7),
        counter: 5,
        previousCounter: 3,
        registrationId: 0xfffffffe,
        preKeyId: 812,
        signedPreKeyId: 3,
        baseKey: new Uint8Array(32).fill(1),
        identityKey: new Uint8Array(32).fill(2),
      },
    });
  });

  it('reads the Kyber prekey id of a version 4 pkmsg', () => {
    const i = inspectCiphertext(pkmsg(preKeyMessage(0x44, goodPreKey(0x44))));
    expect(i.ok && i.value.kyberPreKeyId).toBe(4);
    expect(i.ok && i.value.version).toBe(4);
  });

  it('leaves out what is absent: no one-time prekey, no registration id', () => {
    const { preKeyId: _, registrationId: __, ...rest } = goodPreKey();
    const i = inspectCiphertext(pkmsg(preKeyMessage(0x33, rest)));
    expect(i.ok).toBe(true);
    if (!i.ok) return;
    expect('preKeyId' in i.value).toBe(false);
    expect('registrationId' in i.value).toBe(false);
    expect('kyberPreKeyId' in i.value).toBe(false);
  });

  it('defaults a missing previous counter to 0', () => {
    const bytes = signalMessage(0x33, { ratchetKey: key(7), counter: 1, ciphertext: new Uint8Array(16) });
    const i = inspectCiphertext(msg(bytes));
    expect(i.ok && i.value.previousCounter).toBe(0);
  });

  it('skips fields it does not know (v4 carries one more in every msg)', () => {
    const bytes = goodMessage(0x44, (w) => w.uint32(42).bytes(new Uint8Array(37)));
    const i = inspectCiphertext(msg(bytes));
    expect(i.ok && i.value.counter).toBe(5);
  });

  it('returns copies, not views into the input', () => {
    const bytes = goodMessage();
    const i = inspectCiphertext(msg(bytes));
    bytes.fill(0);
    expect(i.ok && i.value.ratchetKey[0]).toBe(7);
  });

  it('reads counters over 2^31', () => {
    const bytes = signalMessage(0x33, {
      ratchetKey: key(7),
      counter: 0xffffffff,
      ciphertext: new Uint8Array(16),
    });
    const i = inspectCiphertext(msg(bytes));
    expect(i.ok && i.value.counter).toBe(0xffffffff);
  });
});

describe('bad input', () => {
  it.each<[string, Uint8Array, CryptoViolationCode, RegExp]>([
    ['empty', new Uint8Array(0), 'VIO_CRYPTO_INVALID_MESSAGE', /empty/],
    ['version byte only', Uint8Array.of(0x33), 'VIO_CRYPTO_INVALID_MESSAGE', /too short/],
    [
      'version 2',
      Uint8Array.of(0x22, ...goodMessage().subarray(1)),
      'VIO_CRYPTO_UNSUPPORTED_VERSION',
      /0x22/,
    ],
    [
      'version 5',
      Uint8Array.of(0x55, ...goodMessage().subarray(1)),
      'VIO_CRYPTO_UNSUPPORTED_VERSION',
      /version 5/,
    ],
    [
      'no ratchet key',
      signalMessage(0x33, { counter: 1, ciphertext: new Uint8Array(16) }),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /ratchetKey is missing/,
    ],
    [
      'no counter',
      signalMessage(0x33, { ratchetKey: key(1), ciphertext: new Uint8Array(16) }),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /counter is missing/,
    ],
    [
      'no ciphertext',
      signalMessage(0x33, { ratchetKey: key(1), counter: 1 }),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /ciphertext is missing/,
    ],
    [
      'a 32-byte ratchet key',
      signalMessage(0x33, { ratchetKey: new Uint8Array(32), counter: 1, ciphertext: new Uint8Array(16) }),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /33-byte/,
    ],
    [
      'a ratchet key of type 0x06',
      signalMessage(0x33, {
        ratchetKey: Uint8Array.of(6, ...new Uint8Array(32)),
        counter: 1,
        ciphertext: new Uint8Array(16),
      }),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /type 0x05/,
    ],
    [
      'a length running past the end',
      Uint8Array.of(0x33, 0x0a, 0x40, 5, 5, 5, ...MAC),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /not a valid protobuf/,
    ],
    [
      'a known field with the wrong wire type',
      goodMessage(0x33, (w) => w.uint32(0x1a).bytes(new Uint8Array(0))),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /previousCounter has wire type 2/,
    ],
    [
      'a bytes field sent as a varint',
      goodMessage(0x33, (w) => w.uint32(0x08).uint32(0)),
      'VIO_CRYPTO_INVALID_MESSAGE',
      /ratchetKey has wire type 0/,
    ],
  ])('msg: %s', (_, bytes, code, text) => {
    expectCode(parseCiphertext(msg(bytes)), code, text);
  });

  it.each<[string, PreKeyFields, RegExp]>([
    ['no base key', { ...goodPreKey(), baseKey: undefined }, /baseKey is missing/],
    ['no identity key', { ...goodPreKey(), identityKey: undefined }, /identityKey is missing/],
    ['no signed prekey id', { ...goodPreKey(), signedPreKeyId: undefined }, /signedPreKeyId is missing/],
    ['no inner message', { ...goodPreKey(), message: undefined }, /message is missing/],
    [
      'a broken inner message',
      { ...goodPreKey(), message: Uint8Array.of(0x33, 0x0a, 0x40, ...MAC) },
      /pkmsg message/,
    ],
    ['a Kyber id without its ciphertext', { ...goodPreKey(), kyberPreKeyId: 1 }, /without the other/],
    [
      'a Kyber ciphertext without its id',
      { ...goodPreKey(), kyberCiphertext: new Uint8Array(10) },
      /without the other/,
    ],
    [
      'version 4 without Kyber',
      { ...goodPreKey(0x44), kyberPreKeyId: undefined, kyberCiphertext: undefined },
      /Kyber/,
    ],
  ])('pkmsg: %s', (name, fields, text) => {
    const version = name.startsWith('version 4') ? 0x44 : 0x33;
    expectCode(parseCiphertext(pkmsg(preKeyMessage(version, fields))), 'VIO_CRYPTO_INVALID_MESSAGE', text);
  });

  it('an unknown ciphertext type', () => {
    expectCode(
      parseCiphertext({ type: 'skmsg' as never, bytes: goodMessage() }),
      'VIO_CRYPTO_INVALID_MESSAGE',
    );
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('msg', 'pkmsg'), (bytes, type) => {
        const o = inspectCiphertext({ type: type as 'msg' | 'pkmsg', bytes });
        if (!o.ok) expect(['VIO_CRYPTO_INVALID_MESSAGE', 'VIO_CRYPTO_UNSUPPORTED_VERSION']).toContain(o.code);
      }),
      { seed: 20240601, numRuns: 2000 },
    );
  });

  it('never throws on any single-byte change of a valid message', () => {
    const base = preKeyMessage(0x44, goodPreKey(0x44));
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bytes = Uint8Array.from(base);
        bytes[i] = (bytes[i] as number) ^ x;
        inspectCiphertext(pkmsg(bytes));
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});

describe('parseForProfile', () => {
  it('checks the whole version byte before the structure', () => {
    expectCode(
      parseForProfile(msg(Uint8Array.of(0x44, 1, 2, 3)), 0x33),
      'VIO_CRYPTO_UNSUPPORTED_VERSION',
      /0x44/,
    );
    expectCode(
      parseForProfile(msg(withVersionByte(msg(goodMessage()), 0x32).bytes), 0x33),
      'VIO_CRYPTO_UNSUPPORTED_VERSION',
    );
    expect(parseForProfile(msg(goodMessage()), 0x33).ok).toBe(true);
    expectCode(parseForProfile(msg(new Uint8Array(0)), 0x33), 'VIO_CRYPTO_INVALID_MESSAGE');
  });

  it("checks the inner message's version byte of a pkmsg", () => {
    const mixed = preKeyMessage(0x33, { ...goodPreKey(), message: goodMessage(0x34) });
    expectCode(parseForProfile(pkmsg(mixed), 0x33), 'VIO_CRYPTO_UNSUPPORTED_VERSION', /inside the pkmsg/);
    expect(parseForProfile(pkmsg(preKeyMessage(0x33, goodPreKey())), 0x33).ok).toBe(true);
  });
});

describe('mutations', () => {
  const base = msg(goodMessage(0x44, (w) => w.uint32(42).bytes(Uint8Array.of(1, 2, 3))));

  it('changes one field and keeps the rest, unknown fields and MAC included', () => {
    const edited = editSignalMessage(base.bytes, { counter: 77 });
    const i = inspectCiphertext(msg(edited));
    expect(i.ok && i.value.counter).toBe(77);
    expect(i.ok && i.value.previousCounter).toBe(3);
    expect(Buffer.from(edited.subarray(-8))).toEqual(Buffer.from(MAC));
    expect(Buffer.from(edited).indexOf(Buffer.from([42, 3, 1, 2, 3]))).toBeGreaterThan(0);
    expect(Buffer.from(editSignalMessage(base.bytes, {}))).toEqual(Buffer.from(base.bytes));
  });

  it('removes and adds fields', () => {
    const noPrevious = editSignalMessage(base.bytes, { previousCounter: null });
    expect(noPrevious.length).toBe(base.bytes.length - 2);
    const noCiphertext = editSignalMessage(base.bytes, { ciphertext: null });
    expectCode(parseCiphertext(msg(noCiphertext)), 'VIO_CRYPTO_INVALID_MESSAGE', /ciphertext is missing/);
    const first = pkmsg(preKeyMessage(0x33, { ...goodPreKey(), preKeyId: undefined }));
    const withId = inspectCiphertext(pkmsg(editPreKeyMessage(first.bytes, { preKeyId: 9 })));
    expect(withId.ok && withId.value.preKeyId).toBe(9);
  });

  it("edits a pkmsg's inner message", () => {
    const first = pkmsg(preKeyMessage(0x33, goodPreKey()));
    const i = inspectCiphertext(pkmsg(editInnerMessage(first.bytes, { counter: 1234 })));
    expect(i.ok && i.value.counter).toBe(1234);
    expect(i.ok && i.value.preKeyId).toBe(812);
  });

  it('flips bits, truncates and swaps the version byte without touching the original', () => {
    const before = Buffer.from(base.bytes);
    expect(flipBit(base, 0).bytes[0]).toBe(0x45);
    expect(flipBit(base, 15).bytes[1]).toBe((base.bytes[1] as number) ^ 0x80);
    expect(() => flipBit(base, base.bytes.length * 8)).toThrow();
    expect(truncated(base, 5).bytes).toHaveLength(5);
    expect(withVersionByte(base, 0x33).bytes[0]).toBe(0x33);
    expect(Buffer.from(base.bytes)).toEqual(before);
  });
});
