// signal-x3dh specifics: every row of the error table produced by a real ciphertext or bundle,
// the checks the wrapper makes because the package does not, and the v3 wire format.

import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { editInnerMessage, editPreKeyMessage, editSignalMessage } from './inspect-mutate.ts';
import type { Ciphertext, CryptoIdentity, CryptoViolationCode, Outcome, PublicBundle } from './profile.ts';
import { classifyX3dhError, signalX3dh, X3DH_ERRORS, X3DH_VERSION_BYTE } from './signal-x3dh.ts';
import { libsignal } from './stores/x3dh.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
const CAROL = '491707654321@s.whatsapp.net';
const text = (s: string) => new TextEncoder().encode(s);

function bundleOf(id: CryptoIdentity, preKeyIndex: number | null = 0): PublicBundle {
  const up = id.keyUpload();
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
  expect(new TextDecoder().decode(o.value)).toBe(s);
}

function expectCode(o: Outcome<unknown>, code: CryptoViolationCode, text?: RegExp): void {
  if (o.ok) expect.fail(`expected ${code}, but it succeeded`);
  expect(o.code, o.message).toBe(code);
  if (text) expect(o.message).toMatch(text);
}

const identity = (preKeyCount = 2) => signalX3dh.createIdentity({ preKeyCount });

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

// The package's crypto module: the same instance its session cipher calls.
const nodeCrypto = createRequire(import.meta.url)('libsignal/src/crypto') as {
  encrypt: (key: Buffer, data: Buffer, iv: Buffer) => Buffer;
};
const realEncrypt = nodeCrypto.encrypt;
afterEach(() => {
  nodeCrypto.encrypt = realEncrypt;
});

/** One scenario per row of X3DH_ERRORS, keyed by `library` and operation. */
const SCENARIOS: Record<string, () => Promise<Outcome<unknown>>> = {
  'decrypt: UntrustedIdentityKeyError': async () => {
    const { bob } = await talking();
    const alice2 = await identity();
    await alice2.processBundle(BOB, bundleOf(bob, 1));
    return bob.decrypt(ALICE, await alice2.encrypt(BOB, text('new phone')));
  },
  "decrypt: MessageCounterError 'Key used already or never filled'": async () => {
    const { alice, bob } = await talking();
    const m = await alice.encrypt(BOB, text('x'));
    await bob.decrypt(ALICE, m);
    return bob.decrypt(ALICE, m);
  },
  "decrypt: PreKeyError 'Invalid PreKey ID' / 'Missing SignedPreKey'": async () => {
    const { alice, bob } = await pair();
    return bob.decrypt(
      ALICE,
      pkmsg(editPreKeyMessage((await alice.encrypt(BOB, text('x'))).bytes, { preKeyId: 999 })),
    );
  },
  "decrypt: Error 'Bad MAC'": async () => {
    const { alice, bob } = await talking();
    const m = await alice.encrypt(BOB, text('x'));
    return bob.decrypt(ALICE, msg(editSignalMessage(m.bytes, { ciphertext: new Uint8Array(16) })));
  },
  "decrypt: SessionError 'Chain closed'": async () => {
    const { alice, bob } = await talking();
    const old = await alice.encrypt(BOB, text('on the old chain'));
    expectPlain(await bob.decrypt(ALICE, old), 'on the old chain');
    expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('turn'))), 'turn');
    expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('new chain'))), 'new chain');
    // Bob has closed Alice's old chain after its last counter; a higher one cannot be derived.
    return bob.decrypt(ALICE, msg(editSignalMessage(old.bytes, { counter: 5 })));
  },
  "decrypt: Error 'Tried to decrypt on a sending chain'": async () => {
    const { alice } = await talking();
    return alice.decrypt(BOB, await alice.encrypt(BOB, text('my own message, sent back to me')));
  },
  "decrypt: SessionError 'Over 2000 messages into the future!'": async () => {
    const { alice, bob } = await talking();
    return bob.decrypt(
      ALICE,
      msg(editSignalMessage((await alice.encrypt(BOB, text('x'))).bytes, { counter: 2500 })),
    );
  },
  'decrypt: OpenSSL ERR_OSSL_BAD_DECRYPT': async () => {
    const { alice, bob } = await talking();
    // A sender that pads wrongly: the MAC covers what it sent, so only the padding fails.
    nodeCrypto.encrypt = (key, data, iv) => {
      const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      const zeros = Buffer.alloc(16 - (data.length % 16));
      return Buffer.concat([c.update(Buffer.concat([data, zeros])), c.final()]);
    };
    const m = await alice.encrypt(BOB, text('badly padded'));
    nodeCrypto.encrypt = realEncrypt;
    return bob.decrypt(ALICE, m);
  },
  'decrypt: OpenSSL ERR_OSSL_FAILED_DURING_DERIVATION': async () => {
    const { alice, bob } = await talking();
    return bob.decrypt(
      ALICE,
      msg(editSignalMessage((await alice.encrypt(BOB, text('x'))).bytes, { ratchetKey: zeroKey() })),
    );
  },
  'bundle: OpenSSL ERR_OSSL_FAILED_DURING_DERIVATION': async () => {
    // A signature can cover any 32 bytes: an identity that signs an all-zero signed prekey.
    const signer = libsignal.keyhelper.generateIdentityKeyPair();
    const zero = Buffer.from(zeroKey());
    const alice = await identity();
    return alice.processBundle(BOB, {
      registrationId: 1,
      identityKey: Uint8Array.from(signer.pubKey.subarray(1)),
      signedPreKey: {
        id: 1,
        publicKey: new Uint8Array(32),
        signature: libsignal.curve.calculateSignature(signer.privKey, zero),
      },
    });
  },
};

describe('signal-x3dh error table', () => {
  const rows = X3DH_ERRORS.flatMap((rule) =>
    rule.during.map((during) => ({ rule, during, key: `${during}: ${rule.library}` })),
  );

  it('has exactly one scenario per row', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(rows.map((r) => r.key).sort());
  });

  it.each(rows)('$key -> $rule.code', async ({ rule, key }) => {
    const scenario = SCENARIOS[key];
    if (scenario === undefined) return expect.fail(`no scenario for ${key}`);
    const o = await scenario();
    expectCode(o, rule.code);
  });

  it('names the row that matched', () => {
    const e = new libsignal.MessageCounterError('Key used already or never filled');
    expect(classifyX3dhError(e, 'decrypt').rule.library).toMatch(/MessageCounterError/);
  });

  it('turns an error no row explains into HRN_ERR_CRYPTO', () => {
    expect(() => classifyX3dhError(new TypeError('x is undefined'), 'decrypt')).toThrow(HarnessError);
    expect(() => classifyX3dhError(new Error('Bad MAC'), 'bundle')).toThrow(/HRN_ERR_CRYPTO/);
    expect(() => classifyX3dhError('a string', 'decrypt')).toThrow(HarnessError);
  });

  it('a badly padded message still leaves the session usable', async () => {
    const { alice, bob } = await talking();
    nodeCrypto.encrypt = (key, data, iv) => {
      const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      return Buffer.concat([
        c.update(Buffer.concat([data, Buffer.alloc(16 - (data.length % 16))])),
        c.final(),
      ]);
    };
    const bad = await alice.encrypt(BOB, text('bad'));
    nodeCrypto.encrypt = realEncrypt;
    expectCode(await bob.decrypt(ALICE, bad), 'VIO_CRYPTO_INVALID_MESSAGE');
    expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('good'))), 'good');
  });
});

describe('what the wrapper checks because the package does not', () => {
  it("the package's session builder accepts a bundle whose signature is garbage", async () => {
    const bob = libsignal.keyhelper.generateIdentityKeyPair();
    const spk = libsignal.keyhelper.generateSignedPreKey(bob, 1);
    const store = {
      loadSession: async () => undefined,
      storeSession: async () => {},
      isTrustedIdentity: () => true,
      loadPreKey: async () => undefined,
      removePreKey: () => {},
      loadSignedPreKey: () => undefined,
      getOurRegistrationId: () => 1,
      getOurIdentity: () => libsignal.keyhelper.generateIdentityKeyPair(),
    };
    const builder = new libsignal.SessionBuilder(store, new libsignal.ProtocolAddress('bob', 0));
    await expect(
      builder.initOutgoing({
        registrationId: 1,
        identityKey: bob.pubKey,
        signedPreKey: { keyId: 1, publicKey: spk.keyPair.pubKey, signature: Buffer.alloc(64, 7) },
      }),
    ).resolves.toBeUndefined();
    // The profile refuses the same bundle.
    const alice = await identity();
    expectCode(
      await alice.processBundle(BOB, {
        registrationId: 1,
        identityKey: Uint8Array.from(bob.pubKey.subarray(1)),
        signedPreKey: {
          id: 1,
          publicKey: Uint8Array.from(spk.keyPair.pubKey.subarray(1)),
          signature: new Uint8Array(64).fill(7),
        },
      }),
      'VIO_CRYPTO_INVALID_BUNDLE',
      /does not verify/,
    );
  });

  it('a bundle with a changed identity is refused before the package sees it', async () => {
    const { alice } = await talking();
    expectCode(await alice.processBundle(BOB, bundleOf(await identity())), 'VIO_CRYPTO_UNTRUSTED_IDENTITY');
    expect(await alice.hasSession(BOB)).toBe(true);
  });

  it('a failed first message leaves the open session as it was', async () => {
    const { alice, bob } = await talking();
    const carol = await identity();
    await carol.processBundle(BOB, bundleOf(bob, 1));
    const forged = editInnerMessage((await carol.encrypt(BOB, text('x'))).bytes, {
      ciphertext: new Uint8Array(16),
    });
    // Carol's forged first message arrives as if from Alice: a new identity, so refused.
    expectCode(await bob.decrypt(ALICE, pkmsg(forged)), 'VIO_CRYPTO_UNTRUSTED_IDENTITY');
    // From Carol's own address: new session set up, then the MAC fails; Alice's session stays open.
    expectCode(await bob.decrypt(CAROL, pkmsg(forged)), 'VIO_CRYPTO_BAD_MAC');
    expect(await bob.hasSession(CAROL)).toBe(false);
    expectPlain(await bob.decrypt(ALICE, await alice.encrypt(BOB, text('still here'))), 'still here');
    expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('yes'))), 'yes');
  });

  it('a new first message from the same peer replaces the session quietly', async () => {
    const { alice, bob } = await talking();
    await alice.processBundle(BOB, bundleOf(bob, 1));
    const first = await alice.encrypt(BOB, text('starting over'));
    expect(first.type).toBe('pkmsg');
    expectPlain(await bob.decrypt(ALICE, first), 'starting over');
    expectPlain(await alice.decrypt(BOB, await bob.encrypt(ALICE, text('ok'))), 'ok');
  });
});

describe('signal-x3dh on the wire', () => {
  it('sends version byte 0x33 and ignores a Kyber prekey in a bundle', async () => {
    const alice = await identity();
    const bob = await identity();
    const kyber = { id: 1, publicKey: new Uint8Array(1569).fill(8), signature: new Uint8Array(64) };
    expect((await alice.processBundle(BOB, { ...bundleOf(bob), kyberPreKey: kyber })).ok).toBe(true);
    const first = await alice.encrypt(BOB, text('x'));
    expect(first.bytes[0]).toBe(X3DH_VERSION_BYTE);
    const view = signalX3dh.inspect(first);
    expect(view.ok && view.value.kyberPreKeyId).toBeUndefined();
    expect(first.bytes.length).toBeLessThan(300);
    expectPlain(await bob.decrypt(ALICE, first), 'x');
  });

  it('never uploads a Kyber prekey, even after rotating', async () => {
    const id = await identity();
    expect(id.keyUpload().kyberPreKey).toBeUndefined();
    expect((await id.rotateSignedPreKey()).kyberPreKey).toBeUndefined();
  });
});
