// signal-pqxdh specifics: every row of the error table produced by a real ciphertext or bundle,
// the refusal to fall back to X3DH, and the v4 wire format.

import { ErrorCode, IdentityKeyPair, KEMKeyPair, LibSignalErrorBase } from '@signalapp/libsignal-client';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { parseCiphertext } from './inspect.ts';
import { editInnerMessage, editPreKeyMessage, editSignalMessage } from './inspect-mutate.ts';
import type { Ciphertext, CryptoIdentity, CryptoViolationCode, Outcome, PublicBundle } from './profile.ts';
import { classifyPqxdhError, PQXDH_ERRORS, PQXDH_VERSION_BYTE, signalPqxdh } from './signal-pqxdh.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
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

function expectCode(o: Outcome<unknown>, code: CryptoViolationCode, text?: RegExp): void {
  if (o.ok) expect.fail(`expected ${code}, but it succeeded`);
  expect(o.code, o.message).toBe(code);
  if (text) expect(o.message).toMatch(text);
}

const identity = (preKeyCount = 2) => signalPqxdh.createIdentity({ preKeyCount });

async function pair() {
  const alice = await identity();
  const bob = await identity();
  expect((await alice.processBundle(BOB, bundleOf(bob))).ok).toBe(true);
  return { alice, bob };
}

async function talking() {
  const { alice, bob } = await pair();
  expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('hi'))), 'hi');
  expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('hello'))), 'hello');
  return { alice, bob };
}

const msg = (bytes: Uint8Array): Ciphertext => ({ type: 'msg', bytes });
const pkmsg = (bytes: Uint8Array): Ciphertext => ({ type: 'pkmsg', bytes });
const zeroKey = () => Uint8Array.of(0x05, ...new Uint8Array(32));

function kyberCiphertextOf(first: Ciphertext): Uint8Array {
  const p = parseCiphertext(first);
  if (!p.ok || p.value.type !== 'pkmsg' || p.value.preKey.kyberCiphertext === undefined) {
    return expect.fail('not a v4 pkmsg');
  }
  return p.value.preKey.kyberCiphertext;
}

/** One scenario per row of PQXDH_ERRORS and operation, each with the library text it produces. */
const SCENARIOS: Record<string, { run: () => Promise<Outcome<unknown>>; says: RegExp }[]> = {
  'decrypt: ErrorCode.DuplicatedMessage': [
    {
      says: /old counter/,
      run: async () => {
        const { alice, bob } = await talking();
        const m = await alice.encrypt(BOB, text('x'));
        await bob.decrypt(ALICE, m);
        return bob.decrypt(ALICE, m);
      },
    },
  ],
  'bundle: ErrorCode.UntrustedIdentity': [
    {
      says: /untrusted identity/,
      run: async () => {
        const { alice } = await talking();
        return alice.processBundle(BOB, bundleOf(await identity()));
      },
    },
  ],
  'decrypt: ErrorCode.UntrustedIdentity': [
    {
      says: /untrusted identity/,
      run: async () => {
        const { bob } = await talking();
        const alice2 = await identity();
        await alice2.processBundle(BOB, bundleOf(bob, 1));
        return bob.decrypt(ALICE, await alice2.encrypt(BOB, text('new phone')));
      },
    },
  ],
  "decrypt: Generic 'error in method call 'loadPreKey' / 'loadSignedPreKey' / 'loadKyberPreKey''": [
    {
      says: /loadPreKey.*missing one-time prekey 999/,
      run: async () => {
        const { alice, bob } = await pair();
        return bob.decrypt(
          ALICE,
          pkmsg(editPreKeyMessage((await alice.encrypt(BOB, text('x'))).bytes, { preKeyId: 999 })),
        );
      },
    },
    {
      says: /loadSignedPreKey.*missing signed prekey 77/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = (await alice.encrypt(BOB, text('x'))).bytes;
        return bob.decrypt(ALICE, pkmsg(editPreKeyMessage(first, { signedPreKeyId: 77 })));
      },
    },
    {
      says: /loadKyberPreKey.*missing Kyber prekey 55/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = (await alice.encrypt(BOB, text('x'))).bytes;
        return bob.decrypt(ALICE, pkmsg(editPreKeyMessage(first, { kyberPreKeyId: 55 })));
      },
    },
  ],
  "decrypt: Generic 'session with … not found'": [
    {
      says: /not found/,
      run: async () => {
        const { alice } = await talking();
        return (await identity()).decrypt(ALICE, await alice.encrypt(BOB, text('x')));
      },
    },
  ],
  "decrypt: Generic 'invalid … message: decryption failed'": [
    {
      says: /Whisper message: decryption failed/,
      run: async () => {
        const { alice, bob } = await talking();
        const m = await alice.encrypt(BOB, text('x'));
        return bob.decrypt(ALICE, msg(editSignalMessage(m.bytes, { ciphertext: new Uint8Array(16) })));
      },
    },
    {
      // A counter far past the skipped-key window: the library gives up on every session.
      says: /decryption failed/,
      run: async () => {
        const { alice, bob } = await talking();
        return bob.decrypt(
          ALICE,
          msg(editSignalMessage((await alice.encrypt(BOB, text('x'))).bytes, { counter: 30000 })),
        );
      },
    },
    {
      // Kyber decapsulation never fails outright; a changed ciphertext yields other keys.
      says: /PreKey message: decryption failed/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = await alice.encrypt(BOB, text('x'));
        const kyber = Uint8Array.from(kyberCiphertextOf(first));
        kyber[700] = (kyber[700] as number) ^ 1;
        return bob.decrypt(ALICE, pkmsg(editPreKeyMessage(first.bytes, { kyberCiphertext: kyber })));
      },
    },
  ],
  "decrypt: Generic 'bad KEM ciphertext length' / 'bad KEM key type'": [
    {
      says: /bad KEM ciphertext length/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = await alice.encrypt(BOB, text('x'));
        return bob.decrypt(
          ALICE,
          pkmsg(editPreKeyMessage(first.bytes, { kyberCiphertext: kyberCiphertextOf(first).slice(0, 100) })),
        );
      },
    },
    {
      says: /bad KEM key type/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = await alice.encrypt(BOB, text('x'));
        const kyber = Uint8Array.from(kyberCiphertextOf(first));
        kyber[0] = 0x63;
        return bob.decrypt(ALICE, pkmsg(editPreKeyMessage(first.bytes, { kyberCiphertext: kyber })));
      },
    },
  ],
  "decrypt: Generic 'invalid PreKey message: incoming base key is invalid'": [
    {
      says: /base key is invalid/,
      run: async () => {
        const { alice, bob } = await pair();
        const first = (await alice.encrypt(BOB, text('x'))).bytes;
        return bob.decrypt(
          ALICE,
          pkmsg(editPreKeyMessage(first, { baseKey: Uint8Array.of(5, ...new Uint8Array(32)) })),
        );
      },
    },
  ],
  "bundle: Generic 'invalid key agreement'": [
    {
      says: /invalid key agreement/,
      run: async () => {
        // A signature can cover any 32 bytes: an identity that signs an all-zero signed prekey.
        const signer = IdentityKeyPair.generate();
        const kem = KEMKeyPair.generate().getPublicKey().serialize();
        return (await identity()).processBundle(BOB, {
          registrationId: 1,
          identityKey: signer.publicKey.getPublicKeyBytes(),
          signedPreKey: {
            id: 1,
            publicKey: new Uint8Array(32),
            signature: signer.privateKey.sign(zeroKey()),
          },
          kyberPreKey: { id: 1, publicKey: kem, signature: signer.privateKey.sign(kem) },
        });
      },
    },
  ],
  "bundle: Generic 'invalid signature detected' (signed or Kyber prekey)": [
    {
      says: /invalid signature/,
      run: async () => {
        const b = bundleOf(await identity());
        const signature = Uint8Array.from(b.signedPreKey.signature);
        signature[0] = (signature[0] as number) ^ 1;
        return (await identity()).processBundle(BOB, {
          ...b,
          signedPreKey: { ...b.signedPreKey, signature },
        });
      },
    },
    {
      says: /invalid signature/,
      run: async () => {
        const b = bundleOf(await identity());
        const kyber = b.kyberPreKey;
        if (kyber === undefined) return expect.fail('no Kyber prekey');
        const signature = Uint8Array.from(kyber.signature);
        signature[5] = (signature[5] as number) ^ 1;
        return (await identity()).processBundle(BOB, { ...b, kyberPreKey: { ...kyber, signature } });
      },
    },
    {
      // A Kyber key signed by another identity.
      says: /invalid signature/,
      run: async () => {
        const b = bundleOf(await identity());
        const other = bundleOf(await identity());
        return (await identity()).processBundle(BOB, {
          ...b,
          ...(other.kyberPreKey && { kyberPreKey: other.kyberPreKey }),
        });
      },
    },
  ],
};

describe('signal-pqxdh error table', () => {
  const rows = PQXDH_ERRORS.flatMap((rule) =>
    rule.during.map((during) => ({ rule, key: `${during}: ${rule.library}` })),
  );

  it('has scenarios for every row and no others', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(rows.map((r) => r.key).sort());
  });

  it.each(rows)('$key -> $rule.code', async ({ rule, key }) => {
    const scenarios = SCENARIOS[key] ?? [];
    expect(scenarios.length).toBeGreaterThan(0);
    for (const s of scenarios) expectCode(await s.run(), rule.code, s.says);
  });

  it('turns an error no row explains into HRN_ERR_CRYPTO', () => {
    const odd = new LibSignalErrorBase(
      'something new',
      'InvalidSession',
      'SessionCipher_DecryptSignalMessage',
    );
    expect(odd.code).toBe(ErrorCode.InvalidSession);
    expect(() => classifyPqxdhError(odd, 'decrypt')).toThrow(HarnessError);
    const generic = new LibSignalErrorBase('invalid signature detected', undefined, 'x');
    expect(classifyPqxdhError(generic, 'bundle').code).toBe('VIO_CRYPTO_INVALID_BUNDLE');
    expect(() => classifyPqxdhError(generic, 'decrypt')).toThrow(/HRN_ERR_CRYPTO/);
    expect(() => classifyPqxdhError(new Error('not from the library'), 'decrypt')).toThrow(HarnessError);
  });
});

describe('where the two profiles differ', () => {
  it('an all-zero ratchet key is a failed decryption here (INVALID_MESSAGE in signal-x3dh)', async () => {
    const { alice, bob } = await talking();
    const m = await alice.encrypt(BOB, text('x'));
    expectCode(
      await bob.decrypt(ALICE, msg(editSignalMessage(m.bytes, { ratchetKey: zeroKey() }))),
      'VIO_CRYPTO_BAD_MAC',
    );
    expectPlain(await bob.decrypt(ALICE, m), 'x');
  });
});

describe('no fallback to X3DH', () => {
  it('refuses a bundle without a Kyber prekey', async () => {
    const { kyberPreKey: _, ...withoutKyber } = bundleOf(await identity());
    const alice = await identity();
    expectCode(
      await alice.processBundle(BOB, withoutKyber),
      'VIO_CRYPTO_INVALID_BUNDLE',
      /never falls back to X3DH/,
    );
    expect(await alice.hasSession(BOB)).toBe(false);
  });

  it('refuses a bundle whose Kyber key has an unknown type byte', async () => {
    const b = bundleOf(await identity());
    const kyber = b.kyberPreKey;
    if (kyber === undefined) return expect.fail('no Kyber prekey');
    const publicKey = Uint8Array.from(kyber.publicKey);
    publicKey[0] = 0x63;
    expectCode(
      await (await identity()).processBundle(BOB, { ...b, kyberPreKey: { ...kyber, publicKey } }),
      'VIO_CRYPTO_INVALID_BUNDLE',
      /KEM key type/,
    );
  });

  it('refuses a version 4 first message stripped of its Kyber fields', async () => {
    const { alice, bob } = await pair();
    const first = await alice.encrypt(BOB, text('x'));
    const stripped = editPreKeyMessage(first.bytes, { kyberPreKeyId: null, kyberCiphertext: null });
    expectCode(await bob.decrypt(ALICE, pkmsg(stripped)), 'VIO_CRYPTO_INVALID_MESSAGE', /Kyber/);
    expectPlain(await bob.decrypt(ALICE, first), 'x');
  });

  it('refuses a first message dressed as version 3', async () => {
    const { alice, bob } = await pair();
    const first = await alice.encrypt(BOB, text('x'));
    const v3 = Uint8Array.from(first.bytes);
    v3[0] = 0x33;
    const inner = editInnerMessage(v3, {});
    expectCode(await bob.decrypt(ALICE, pkmsg(inner)), 'VIO_CRYPTO_UNSUPPORTED_VERSION');
  });
});

describe('signal-pqxdh on the wire', () => {
  it('sends version byte 0x44 and a first message of about 1.7 KB carrying the Kyber ciphertext', async () => {
    const { alice, bob } = await pair();
    const first = await alice.encrypt(BOB, text('x'));
    expect(first.bytes[0]).toBe(PQXDH_VERSION_BYTE);
    expect(first.bytes.length).toBeGreaterThan(1600);
    expect(first.bytes.length).toBeLessThan(1900);
    expect(kyberCiphertextOf(first)).toHaveLength(1569);
    const view = signalPqxdh.inspect(first);
    expect(view.ok && view.value.kyberPreKeyId).toBe(bob.keyUpload().kyberPreKey?.id);
    expectPlain(await bob.decrypt(ALICE, first), 'x');
  });

  it('keeps the Kyber prekey after use (a last-resort key) and rotates it with the signed prekey', async () => {
    const bob = await identity(3);
    const kyberBefore = bob.keyUpload().kyberPreKey;
    for (const i of [0, 1]) {
      const alice = await identity();
      await alice.processBundle(BOB, bundleOf(bob, i));
      expectPlain(
        await bob.decrypt(`4917000000${i}@s.whatsapp.net`, await alice.encrypt(BOB, text(`s${i}`))),
        `s${i}`,
      );
    }
    expect(bob.keyUpload().kyberPreKey?.id).toBe(kyberBefore?.id);
    const rotated = await bob.rotateSignedPreKey();
    expect(rotated.kyberPreKey?.id).toBe(rotated.signedPreKey.id);
    expect(bob.keyUpload().kyberPreKey?.id).toBe(rotated.kyberPreKey?.id);
  });

  it('addresses devices libsignal-client can take, and refuses others', async () => {
    const { alice, bob } = await pair();
    expectPlain(
      await bob.decrypt('491701234567:126@s.whatsapp.net', await alice.encrypt(BOB, text('x'))),
      'x',
    );
    await expect(bob.hasSession('491701234567:127@s.whatsapp.net')).rejects.toBeInstanceOf(HarnessError);
  });
});
