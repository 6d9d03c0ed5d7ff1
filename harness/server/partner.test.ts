// The test partner: deterministic keys from a seed, and a verifier that names the check each
// forged token fails — every kind of bad token the issuer can make, and the boundaries of the
// time rules (skew 60 s, lifetime 3600 s) on a virtual clock.
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { IssueOptions, TestPartner } from './partner.ts';
import { createTestPartner, TOKEN_AUDIENCE } from './partner.ts';
import { testClock } from './testing/fakes.ts';

const SUB = '10853634039893';

describe('createTestPartner', () => {
  it('derives the same key and kid from the same seed, different ones otherwise', () => {
    const a = createTestPartner({ seed: 'run-1' });
    const b = createTestPartner({ seed: 'run-1' });
    const c = createTestPartner({ seed: 'run-2' });
    const r1 = createTestPartner();
    const r2 = createTestPartner();
    expect(a.jwks()).toEqual(b.jwks());
    expect(a.kid).toBe(b.kid);
    expect(c.kid).not.toBe(a.kid);
    expect(r1.kid).not.toBe(r2.kid);
    const [key] = a.jwks().keys;
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: a.kid, alg: 'EdDSA', use: 'sig' });
    expect(key).not.toHaveProperty('d');
  });

  it('issues tokens with the claims of PROFILE §5.1, timed by its clock', async () => {
    const clock = testClock();
    const partner = createTestPartner({ seed: 's', issuer: 'https://p.example', clock });
    const token = await partner.issueToken(SUB, { ttlS: 600 });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(partner.jwks()), {
      currentDate: new Date(clock.now()),
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: partner.kid });
    expect(payload).toEqual({
      iss: 'https://p.example',
      aud: TOKEN_AUDIENCE,
      sub: SUB,
      iat: clock.seconds(),
      exp: clock.seconds() + 600,
    });
  });
});

describe('the token verifier', () => {
  const clock = testClock();
  const partner = createTestPartner({ seed: 'partner', clock });
  const stranger = createTestPartner({ seed: 'stranger', clock });
  const verifier = partner.verifier(clock);

  const issue = (opts: IssueOptions, sub = SUB, by: TestPartner = partner) => by.issueToken(sub, opts);

  it('accepts a good token and returns its sub', async () => {
    expect(await verifier.verify(await issue({}))).toEqual({ ok: true, sub: SUB });
  });

  const bad: [string, () => Promise<string>, RegExp][] = [
    ['signed by another key under our kid', () => issue({ kid: partner.kid }, SUB, stranger), /signature/],
    ['another partner’s kid', () => issue({}, SUB, stranger), /kid "tp-.*" is not in the partner JWKS/],
    ['an unknown kid', () => issue({ kid: 'tp-unknown' }), /kid "tp-unknown" is not in/],
    ['alg none', () => issue({ alg: 'none' }), /alg "none" is not allowed/],
    ['HS256 keyed with the public key', () => issue({ alg: 'HS256' }), /alg "HS256" is not allowed/],
    ['ES256 under an Ed25519 kid', () => issue({ alg: 'ES256' }), /no key in the partner JWKS/],
    ['expired beyond the skew', () => issue({ iatOffsetS: -3600, ttlS: 3539 }), /exp is more than 60 s/],
    [
      'iat beyond the skew',
      () => issue({ iatOffsetS: 61, ttlS: 600 }),
      /iat is more than 60 s in the future/,
    ],
    ['a lifetime over an hour', () => issue({ ttlS: 3601 }), /lifetime exp − iat is 3601 s/],
    ['another audience', () => issue({ aud: 'partner.example' }), /aud is not s\.whatsapp\.net/],
    ['another issuer', () => issue({ iss: 'https://evil.example' }), /iss is not https:\/\/partner\.example/],
    ['a sub with letters', () => issue({}, 'abc'), /sub "abc" is not 1\.\.20 digits/],
    ['an empty sub', () => issue({}, ''), /sub "" is not/],
    ['a sub of 21 digits', () => issue({}, '1'.repeat(21)), /is not 1\.\.20 digits/],
    ['a numeric sub', () => issue({ extraClaims: { sub: 42 } }), /sub/],
    ['no exp', () => issue({ extraClaims: { exp: undefined } }), /exp/],
    ['a string iat', () => issue({ extraClaims: { iat: 'now' } }), /iat/],
    ['over 4096 characters', () => issue({ extraClaims: { pad: 'x'.repeat(4000) } }), /longer than 4096/],
    ['not a JWS', async () => 'not-a-jwt', /not a compact JWS/],
    ['a header that is not JSON', async () => 'bm90anNvbg.e30.c2ln', /header is not base64url JSON/],
    ['empty', async () => '', /empty/],
  ];

  it.each(bad)('refuses %s', async (_name, make, detail) => {
    const check = await verifier.verify(await make());
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.detail).toMatch(detail);
  });

  it('refuses a token whose payload was swapped after signing', async () => {
    const [h, , s] = (await issue({})).split('.');
    const [, p] = (await issue({}, '999')).split('.');
    const check = await verifier.verify(`${h}.${p}.${s}`);
    expect(check).toEqual({ ok: false, detail: 'signature does not verify' });
  });

  it('accepts the edges of the time rules', async () => {
    // exp 59 s ago, iat 60 s ahead, lifetime exactly 3600 s, token of 4096 characters.
    expect((await verifier.verify(await issue({ iatOffsetS: -3659, ttlS: 3600 }))).ok).toBe(true);
    expect((await verifier.verify(await issue({ iatOffsetS: 60, ttlS: 600 }))).ok).toBe(true);
    const base = await issue({ extraClaims: { pad: '' } });
    const padded = await issue({
      extraClaims: { pad: 'x'.repeat(Math.floor(((4096 - base.length) * 3) / 4)) },
    });
    expect(padded.length).toBeLessThanOrEqual(4096);
    expect(padded.length).toBeGreaterThan(4090);
    expect((await verifier.verify(padded)).ok).toBe(true);
  });

  it('judges time by the clock it was given, not the wall clock', async () => {
    const serverClock = testClock();
    const token = await partner.issueToken(SUB, { ttlS: 600 });
    const check = partner.verifier(serverClock);
    expect((await check.verify(token)).ok).toBe(true);
    serverClock.advance(661_000);
    expect(await check.verify(token)).toEqual({ ok: false, detail: 'exp is more than 60 s in the past' });
  });
});
