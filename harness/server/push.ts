// Push to the partner (PROFILE.md §5.6 step 4): when the server stores a message for an offline
// interop user it wakes the partner with a bearer JWT signed by the server's own Ed25519 key.
// Every push is recorded; it is POSTed only when the run names a partner push URL, and a failed
// POST is recorded, never thrown: the mailbox does not depend on the partner answering.

import { sign } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { DEFAULT_PARTNER_ISSUER, ed25519KeyPair, ed25519Thumbprint, publicJwk } from './partner.ts';
import type { Clock, TranscriptSink } from './types.ts';

export const PUSH_ISSUER = 's.whatsapp.net';
export const PUSH_LIFETIME_S = 300;
export const PUSH_TIMEOUT_MS = 2000;

export interface PushClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
}

export type PushDelivery =
  | { readonly outcome: 'not_configured' }
  | { readonly outcome: 'sent'; readonly status: number }
  | { readonly outcome: 'failed'; readonly status?: number; readonly error: string };

export interface PushResult {
  readonly token: string;
  readonly claims: PushClaims;
  /** Settles when the POST is answered, failed or skipped; never rejects. */
  readonly delivery: Promise<PushDelivery>;
}

export interface PushRecorder {
  readonly kid: string;
  /** The `aud` of every push: the partner push URL's origin. */
  readonly audience: string;
  /** Records (synchronously) and, when configured, sends a push for `to`. */
  push(to: string): PushResult;
  /** The server's push key set, served at `/.well-known/jwks.json`. */
  jwks(): JSONWebKeySet;
  /** Waits for every POST under way (for shutdown and tests). */
  idle(): Promise<void>;
}

export interface PushRecorderOptions {
  readonly clock: Clock;
  readonly transcript: TranscriptSink;
  /** Derives the server's signing key, so a seeded run publishes the same JWKS every time. */
  readonly seed?: string;
  /** The full URL pushes are POSTed to, e.g. `https://partner.example/push`. */
  readonly partnerPushUrl?: string;
  /** How long a POST may take, real milliseconds: 2000 unless a test needs it shorter. */
  readonly timeoutMs?: number;
}

export function createPushRecorder(options: PushRecorderOptions): PushRecorder {
  const { clock, transcript, partnerPushUrl } = options;
  const timeoutMs = options.timeoutMs ?? PUSH_TIMEOUT_MS;
  const pair = ed25519KeyPair(options.seed === undefined ? undefined : `push:${options.seed}`);
  const kid = `wa-push-${ed25519Thumbprint(pair.publicKey).slice(0, 12)}`;
  const jwks: JSONWebKeySet = { keys: [publicJwk(pair.publicKey, kid)] };
  // Without a push URL the audience is still that of a partner, so recorded claims keep one
  // shape; the profile's example partner stands in.
  const audience = new URL(partnerPushUrl ?? DEFAULT_PARTNER_ISSUER).origin;
  const pending = new Set<Promise<PushDelivery>>();

  // Signed with node:crypto directly so recording stays synchronous: the push line lands in the
  // transcript in the same turn as the store that caused it.
  function signJwt(claims: PushClaims): string {
    const header = b64json({ alg: 'EdDSA', kid, typ: 'JWT' });
    const input = `${header}.${b64json(claims)}`;
    const signature = sign(null, Buffer.from(input, 'ascii'), pair.privateKey).toString('base64url');
    return `${input}.${signature}`;
  }

  async function deliver(url: string, to: string, token: string): Promise<PushDelivery> {
    let delivery: PushDelivery;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The body is of no interest; drain it so the connection is released.
      await res.arrayBuffer().catch(() => undefined);
      delivery = res.ok
        ? { outcome: 'sent', status: res.status }
        : { outcome: 'failed', status: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      delivery = { outcome: 'failed', error: describeFetchError(err, timeoutMs) };
    }
    transcript.event({ event: 'push_delivery', address: to, detail: { url, ...delivery } });
    return delivery;
  }

  return {
    kid,
    audience,
    jwks: () => structuredClone(jwks),
    push(to) {
      const iat = clock.seconds();
      const claims: PushClaims = {
        iss: PUSH_ISSUER,
        aud: audience,
        sub: to,
        iat,
        exp: iat + PUSH_LIFETIME_S,
      };
      const token = signJwt(claims);
      transcript.event({
        event: 'push',
        address: to,
        detail: { claims, kid, posted: partnerPushUrl !== undefined },
      });
      if (partnerPushUrl === undefined) {
        return { token, claims, delivery: Promise.resolve({ outcome: 'not_configured' }) };
      }
      const delivery = deliver(partnerPushUrl, to, token);
      pending.add(delivery);
      void delivery.finally(() => pending.delete(delivery));
      return { token, claims, delivery };
    },
    async idle() {
      await Promise.all([...pending]);
    },
  };
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
