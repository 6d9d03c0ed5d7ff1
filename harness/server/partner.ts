// The test partner the harness hosts (integrator 1, PROFILE.md §5.1): an Ed25519 key pair, its
// JWKS, an issuer of partner tokens, and the verifier the server checks those tokens with.
//
// The issuer is deliberately permissive: every option exists so a test can forge one kind of bad
// token (wrong key, wrong kid, `none`, HMAC, expired, future iat, too long a lifetime, bad
// aud/iss/sub) and watch the verifier name the check that caught it.

import type { KeyObject } from 'node:crypto';
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import type { Clock, TokenCheck, TokenVerifier } from './types.ts';

/** The audience every partner token names: the interop server. */
export const TOKEN_AUDIENCE = 's.whatsapp.net';
export const TOKEN_MAX_CHARS = 4096;
/** Tolerated clock skew between partner and server, seconds. */
export const TOKEN_SKEW_S = 60;
export const TOKEN_MAX_LIFETIME_S = 3600;
/** `none` and every HMAC algorithm are refused: a public JWKS must never double as a secret. */
export const TOKEN_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export const DEFAULT_PARTNER_ISSUER = 'https://partner.example';

const SUB_PATTERN = /^[0-9]{1,20}$/;
// PKCS#8 DER of an Ed25519 private key is this fixed prefix followed by the 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface Ed25519Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** An Ed25519 pair derived from a text seed (SHA-256 of it is the private seed), or a random one. */
export function ed25519KeyPair(seed?: string): Ed25519Pair {
  if (seed === undefined) return generateKeyPairSync('ed25519');
  const secret = createHash('sha256').update(seed, 'utf8').digest();
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The RFC 7638 thumbprint of an Ed25519 public key (base64url SHA-256 of its canonical JWK). */
export function ed25519Thumbprint(publicKey: KeyObject): string {
  const { x } = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/** The public JWK of an Ed25519 key, with its kid, for a JWKS. */
export function publicJwk(publicKey: KeyObject, kid: string): JWK {
  const { x } = publicKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
}

export interface IssueOptions {
  /** Seconds added to the server's now for `iat` (negative: issued in the past). */
  readonly iatOffsetS?: number;
  /** `exp − iat`, seconds; 3600 unless given. */
  readonly ttlS?: number;
  readonly aud?: string | readonly string[];
  readonly iss?: string;
  /** Header `alg`: `EdDSA` signs with the partner key; `none` and `HS256` forge (see issueToken). */
  readonly alg?: 'EdDSA' | 'ES256' | 'none' | 'HS256';
  readonly kid?: string;
  /** Merged last, so it can also replace or corrupt a standard claim (`sub: 42`, `exp: 'x'`). */
  readonly extraClaims?: Record<string, unknown>;
}

export interface TestPartner {
  readonly issuer: string;
  readonly kid: string;
  jwks(): JSONWebKeySet;
  /** A token for `sub`, timed by the partner's clock. */
  issueToken(sub: string, opts?: IssueOptions): Promise<string>;
  verifier(clock: Clock): TokenVerifier;
}

export interface TestPartnerOptions {
  readonly seed?: string;
  readonly issuer?: string;
  /** The clock tokens are timed by: the server's in a run, so both agree on "now". Wall time else. */
  readonly clock?: Clock;
}

const wallClock: Clock = { now: () => Date.now(), seconds: () => Math.floor(Date.now() / 1000) };

export function createTestPartner(options: TestPartnerOptions = {}): TestPartner {
  const issuer = options.issuer ?? DEFAULT_PARTNER_ISSUER;
  const clock = options.clock ?? wallClock;
  const pair = ed25519KeyPair(options.seed);
  // The kid follows from the key, so two partners never share one by accident; forging a token
  // under another partner's kid is then an explicit choice of the test.
  const kid = `tp-${ed25519Thumbprint(pair.publicKey).slice(0, 12)}`;
  const jwk = publicJwk(pair.publicKey, kid);
  const jwks: JSONWebKeySet = { keys: [jwk] };

  async function issueToken(sub: string, opts: IssueOptions = {}): Promise<string> {
    const iat = clock.seconds() + (opts.iatOffsetS ?? 0);
    const payload: JWTPayload = {
      iss: opts.iss ?? issuer,
      aud: opts.aud === undefined ? TOKEN_AUDIENCE : typeof opts.aud === 'string' ? opts.aud : [...opts.aud],
      sub,
      iat,
      exp: iat + (opts.ttlS ?? TOKEN_MAX_LIFETIME_S),
      ...opts.extraClaims,
    };
    const alg = opts.alg ?? 'EdDSA';
    const header = { alg, kid: opts.kid ?? kid, typ: 'JWT' };
    switch (alg) {
      case 'EdDSA':
        return new SignJWT(payload).setProtectedHeader(header).sign(pair.privateKey);
      case 'ES256': {
        // A valid signature by a key the JWKS does not hold under that alg.
        const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return new SignJWT(payload).setProtectedHeader(header).sign(es.privateKey);
      }
      case 'none':
        return `${encodeSegment(header)}.${encodeSegment(payload)}.`;
      case 'HS256': {
        // The classic key-confusion forgery: HMAC keyed with the partner's public key bytes.
        const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
        const secret = Buffer.from(jwk.x ?? '', 'base64url');
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      }
    }
  }

  return {
    issuer,
    kid,
    jwks: () => structuredClone(jwks),
    issueToken,
    verifier: (clock) => createTokenVerifier({ jwks, issuer, clock }),
  };
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export interface TokenVerifierOptions {
  /** The partner's keys: configuration of the run, not fetched from anywhere. */
  readonly jwks: JSONWebKeySet;
  readonly issuer: string;
  readonly clock: Clock;
}

/** Every check of PROFILE.md §5.1 step 3; `detail` names the first that failed. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, clock } = options;
  const keySet = createLocalJWKSet(options.jwks);
  const kids = new Set(options.jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
  const fail = (detail: string): TokenCheck => ({ ok: false, detail });

  async function verify(token: string): Promise<TokenCheck> {
    if (typeof token !== 'string' || token.length === 0) return fail('token is empty');
    if (token.length > TOKEN_MAX_CHARS) return fail(`token is longer than ${TOKEN_MAX_CHARS} characters`);
    if (token.split('.').length !== 3) return fail('token is not a compact JWS (three segments)');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return fail('token header is not base64url JSON');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !(TOKEN_ALGORITHMS as readonly string[]).includes(alg)) {
      return fail(`alg ${JSON.stringify(alg)} is not allowed (${TOKEN_ALGORITHMS.join(', ')})`);
    }
    if (typeof header.kid !== 'string') return fail('kid is missing');
    if (!kids.has(header.kid)) return fail(`kid ${JSON.stringify(header.kid)} is not in the partner JWKS`);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        algorithms: [...TOKEN_ALGORITHMS],
        issuer,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp'],
        currentDate: new Date(clock.now()),
        clockTolerance: TOKEN_SKEW_S,
      }));
    } catch (err) {
      return fail(joseDetail(err, header.kid, alg, issuer));
    }

    const sub = payload.sub;
    if (typeof sub !== 'string' || !SUB_PATTERN.test(sub)) {
      return fail(`sub ${JSON.stringify(sub)} is not 1..20 digits`);
    }
    // jose has checked that both are numbers and that exp has not passed (with the skew).
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    const now = clock.now() / 1000;
    if (iat > now + TOKEN_SKEW_S) return fail(`iat is more than ${TOKEN_SKEW_S} s in the future`);
    if (exp - iat > TOKEN_MAX_LIFETIME_S) {
      return fail(`lifetime exp − iat is ${exp - iat} s, more than ${TOKEN_MAX_LIFETIME_S} s`);
    }
    return { ok: true, sub };
  }

  return { verify };
}

function joseDetail(err: unknown, kid: string, alg: string, issuer: string): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey)
    return `no key in the partner JWKS for kid ${kid} and alg ${alg}`;
  if (err instanceof errors.JWTExpired) return `exp is more than ${TOKEN_SKEW_S} s in the past`;
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return err.reason === 'missing' ? 'iss is missing' : `iss is not ${issuer}`;
      case 'aud':
        return err.reason === 'missing' ? 'aud is missing' : `aud is not ${TOKEN_AUDIENCE}`;
      default:
        return `${err.claim}: ${err.message}`;
    }
  }
  if (err instanceof errors.JOSEError) return `token is malformed: ${err.message}`;
  return `token is malformed: ${err instanceof Error ? err.message : String(err)}`;
}
