// Enlistment: the form (exact fields, base64url, lengths), the XEdDSA check on a real signed
// prekey, the failure reasons in their order, and the per-sub rate limit on server time — each
// failure with its violation in the transcript.
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyUpload } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import {
  createEnlistLimiter,
  decodeBase64Url,
  handleEnlistment,
  parseEnlistForm,
  verifySignedPreKey,
} from './enlist.ts';
import type { IssueOptions } from './partner.ts';
import { createTestPartner } from './partner.ts';
import { testClock, testTranscript } from './testing/fakes.ts';
import type { Enlister, EnlistFields } from './types.ts';

const SUB = '10853634039893';

function fakeEnlister(): Enlister & { calls: { fields: EnlistFields; sub: string }[] } {
  const calls: { fields: EnlistFields; sub: string }[] = [];
  return {
    calls,
    enlist(fields, sub) {
      calls.push({ fields, sub });
      return { status: 'ok', login: `1-${sub}@interop` };
    },
  };
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const be = (n: number, len: number) => {
  const b = Buffer.alloc(len);
  b.writeUIntBE(n, 0, len);
  return b;
};

/** The form of §5.1 for an identity; `set` replaces (or with undefined drops) a field. */
function enlistForm(
  upload: KeyUpload,
  token: string,
  set: Record<string, string | undefined> = {},
  authKey: Uint8Array = new Uint8Array(32).fill(7),
): string {
  const fields: Record<string, string | undefined> = {
    authkey: b64u(authKey),
    e_keytype: 'BQ',
    e_regid: b64u(be(upload.registrationId, 4)),
    e_ident: b64u(upload.identityKey),
    e_skey_id: b64u(be(upload.signedPreKey.id, 3)),
    e_skey_val: b64u(upload.signedPreKey.publicKey),
    e_skey_sig: b64u(upload.signedPreKey.signature),
    token,
    ...set,
  };
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

let upload: KeyUpload;
beforeAll(async () => {
  const identity = await getProfile('signal-x3dh').createIdentity({
    preKeyCount: 0,
    signedPreKeyId: 0x0a0b0c,
  });
  upload = identity.keyUpload();
});

describe('decodeBase64Url', () => {
  it('takes unpadded and padded base64url, and nothing else', () => {
    expect(decodeBase64Url('BQ')).toEqual(Uint8Array.of(5));
    expect(decodeBase64Url('BQ==')).toEqual(Uint8Array.of(5));
    expect(decodeBase64Url('AAAB')).toEqual(Uint8Array.of(0, 0, 1));
    expect(decodeBase64Url('')).toEqual(new Uint8Array(0));
    for (const bad of ['BQ=', 'BQ===', 'B', 'BR', '+/8', 'A A', 'BQ=A', 'AAAB=']) {
      expect(decodeBase64Url(bad), bad).toBeUndefined();
    }
  });
});

describe('parseEnlistForm', () => {
  it('reads every field with its byte value', () => {
    const parsed = parseEnlistForm(enlistForm(upload, 'a.b.c'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.fields).toEqual({
      authKey: new Uint8Array(32).fill(7),
      keyType: 5,
      registrationId: upload.registrationId,
      identityKey: new Uint8Array(upload.identityKey),
      signedPreKey: {
        id: 0x0a0b0c,
        publicKey: new Uint8Array(upload.signedPreKey.publicKey),
        signature: new Uint8Array(upload.signedPreKey.signature),
      },
      token: 'a.b.c',
    });
  });

  it('accepts padded values', () => {
    const padded = (b: Uint8Array) =>
      Buffer.from(b).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
    const body = enlistForm(upload, 'a.b.c', {
      e_keytype: 'BQ==',
      e_ident: encodeURIComponent(padded(upload.identityKey)),
      e_skey_sig: padded(upload.signedPreKey.signature),
    });
    expect(parseEnlistForm(body).ok).toBe(true);
  });

  const cases: [string, (token: string) => string, RegExp][] = [
    ['a missing field', (t) => enlistForm(upload, t, { e_regid: undefined }), /e_regid is missing/],
    ['a missing token', (t) => enlistForm(upload, t, { token: undefined }), /token is missing/],
    ['an empty token', (t) => enlistForm(upload, t, { token: '' }), /token is empty/],
    ['a repeated field', (t) => `${enlistForm(upload, t)}&e_keytype=BQ`, /e_keytype is repeated/],
    ['an unknown field', (t) => `${enlistForm(upload, t)}&name=alice`, /unknown field "name"/],
    [
      'standard base64',
      (t) => enlistForm(upload, t, { e_ident: `${'+'.repeat(42)}AA` }),
      /e_ident is not base64url/,
    ],
    [
      'a short key',
      (t) => enlistForm(upload, t, { authkey: b64u(new Uint8Array(31)) }),
      /authkey is 31 bytes, not 32/,
    ],
    ['a long id', (t) => enlistForm(upload, t, { e_skey_id: 'AAAAAQ' }), /e_skey_id is 4 bytes, not 3/],
    [
      'a short signature',
      (t) => enlistForm(upload, t, { e_skey_sig: b64u(new Uint8Array(63)) }),
      /e_skey_sig/,
    ],
    ['a token over 4096 chars', () => enlistForm(upload, 'x'.repeat(4097)), /token is longer than 4096/],
    ['bad percent-encoding', (t) => `${enlistForm(upload, t)}&%E0%A4%A=1`, /not valid form encoding/],
  ];

  it.each(cases)('refuses %s', (_name, body, detail) => {
    const parsed = parseEnlistForm(body('a.b.c'));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.detail).toMatch(detail);
  });
});

describe('verifySignedPreKey', () => {
  it('accepts the real signed prekey and catches one flipped bit anywhere', () => {
    const spk = upload.signedPreKey;
    expect(verifySignedPreKey(upload.identityKey, spk)).toBe(true);
    for (const i of [0, 31, 32, 63]) {
      const signature = Uint8Array.from(spk.signature);
      signature[i] = (signature[i] as number) ^ 0x01;
      expect(verifySignedPreKey(upload.identityKey, { ...spk, signature }), `sig byte ${i}`).toBe(false);
    }
    const publicKey = Uint8Array.from(spk.publicKey);
    publicKey[5] = (publicKey[5] as number) ^ 0x80;
    expect(verifySignedPreKey(upload.identityKey, { ...spk, publicKey })).toBe(false);
    expect(verifySignedPreKey(spk.publicKey, spk)).toBe(false);
    expect(verifySignedPreKey(new Uint8Array(31), spk)).toBe(false);
  });
});

describe('handleEnlistment', () => {
  function setup() {
    const clock = testClock();
    const partner = createTestPartner({ seed: 'enlist', clock });
    const transcript = testTranscript(clock);
    const enlister = fakeEnlister();
    const deps = {
      verifier: partner.verifier(clock),
      enlister,
      transcript,
      limiter: createEnlistLimiter(clock),
    };
    return { clock, partner, transcript, enlister, deps };
  }

  it('enlists a valid form under the token’s sub and records it', async () => {
    const { partner, transcript, enlister, deps } = setup();
    const result = await handleEnlistment(enlistForm(upload, await partner.issueToken(SUB)), deps);
    expect(result).toEqual({ status: 'ok', login: `1-${SUB}@interop` });
    expect(enlister.calls).toHaveLength(1);
    expect(enlister.calls[0]?.sub).toBe(SUB);
    expect(transcript.events).toMatchObject([
      { event: 'enlist', address: `1-${SUB}@interop`, detail: { status: 'ok', sub: SUB } },
    ]);
    expect(transcript.events[0]?.violations).toBeUndefined();
  });

  it('makes the checks in order: request, key type, signature, token', async () => {
    const { partner, transcript, enlister, deps } = setup();
    const good = await partner.issueToken(SUB);
    const bad = await partner.issueToken(SUB, { aud: 'elsewhere' });
    const flipped = Buffer.from(upload.signedPreKey.signature);
    flipped[10] = (flipped[10] as number) ^ 0xff;
    const badSig = b64u(flipped);

    const cases: [string, string, string][] = [
      // Each body also breaks every later check, so only the order decides the reason.
      [
        enlistForm(upload, bad, { e_keytype: 'Bg', e_skey_sig: badSig, e_regid: 'AA' }),
        'bad_request',
        'VIO_ENLIST_BAD_REQUEST',
      ],
      [
        enlistForm(upload, bad, { e_keytype: 'Bg', e_skey_sig: badSig }),
        'bad_key_type',
        'VIO_ENLIST_BAD_KEY_TYPE',
      ],
      [enlistForm(upload, bad, { e_skey_sig: badSig }), 'bad_signature', 'VIO_ENLIST_BAD_SIGNATURE'],
      [enlistForm(upload, bad), 'bad_token', 'VIO_ENLIST_BAD_TOKEN'],
    ];
    for (const [body, reason, code] of cases) {
      const result = await handleEnlistment(body, deps);
      expect(result).toMatchObject({ status: 'fail', reason });
      const last = transcript.events.at(-1);
      expect(last).toMatchObject({ event: 'enlist', detail: { status: 'fail', reason } });
      expect(last?.violations?.map((v) => v.code)).toEqual([code]);
    }
    expect(transcript.events.at(-1)?.violations?.[0]?.message).toBe('aud is not s.whatsapp.net');
    expect(transcript.events.at(-3)?.violations?.[0]?.message).toBe('e_keytype is 0x06, not 0x05');
    expect(enlister.calls).toHaveLength(0);
    expect((await handleEnlistment(enlistForm(upload, good), deps)).status).toBe('ok');
  });

  it.each<[string, IssueOptions]>([
    ['a stranger’s key', { kid: 'stranger' }],
    ['alg none', { alg: 'none' }],
    ['an expired token', { iatOffsetS: -7200 }],
    ['an iat in the future', { iatOffsetS: 120 }],
    ['a lifetime over an hour', { ttlS: 7200 }],
    ['another issuer', { iss: 'https://evil.example' }],
  ])('fails bad_token for %s', async (_name, opts) => {
    const { partner, enlister, deps } = setup();
    const stranger = createTestPartner({ seed: 'stranger', clock: testClock() });
    const token =
      opts.kid === 'stranger'
        ? await stranger.issueToken(SUB, { kid: partner.kid })
        : await partner.issueToken(SUB, opts);
    expect(await handleEnlistment(enlistForm(upload, token), deps)).toMatchObject({
      status: 'fail',
      reason: 'bad_token',
    });
    expect(enlister.calls).toHaveLength(0);
  });

  it('passes a refusal of the core through and records it', async () => {
    const { partner, transcript, deps } = setup();
    const refusing: Enlister = {
      enlist: () => ({ status: 'fail', reason: 'bad_request', detail: 'core says no' }),
    };
    const result = await handleEnlistment(enlistForm(upload, await partner.issueToken(SUB)), {
      ...deps,
      enlister: refusing,
    });
    expect(result).toEqual({ status: 'fail', reason: 'bad_request', detail: 'core says no' });
    expect(transcript.events.at(-1)?.violations).toEqual([
      { code: 'VIO_ENLIST_BAD_REQUEST', message: 'core says no' },
    ]);
  });

  it('allows 10 enlistments per sub in 60 s of server time, then refuses until the window moves', async () => {
    const { clock, partner, transcript, enlister, deps } = setup();
    const enlist = async (sub: string) =>
      (await handleEnlistment(enlistForm(upload, await partner.issueToken(sub)), deps)).status === 'ok'
        ? 'ok'
        : 'fail';
    for (let i = 0; i < 10; i++) {
      expect(await enlist(SUB)).toBe('ok');
      clock.advance(1000);
    }
    expect(await enlist(SUB)).toBe('fail');
    expect(transcript.events.at(-1)).toMatchObject({
      detail: { reason: 'rate_limited', sub: SUB },
      violations: [{ code: 'VIO_ENLIST_RATE_LIMITED' }],
    });
    // Another sub is counted apart.
    expect(await enlist('491')).toBe('ok');
    // The first enlistment was at T0; at T0 + 60 s it leaves the window.
    clock.advance(60_000 - 10_000 - 1);
    expect(await enlist(SUB)).toBe('fail');
    clock.advance(1);
    expect(await enlist(SUB)).toBe('ok');
    expect(enlister.calls.filter((c) => c.sub === SUB)).toHaveLength(11);
  });
});
