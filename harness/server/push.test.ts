// Push (PROFILE §5.6): every push recorded with its claims, a JWT that verifies against the
// server's published key set, a POST only when a partner URL is configured, and every way the
// partner can fail recorded rather than thrown.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createPushRecorder } from './push.ts';
import { T0, testClock, testTranscript } from './testing/fakes.ts';
import type { Clock } from './types.ts';

const ALICE = '1-10853634039893@interop';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

interface Received {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** A partner push endpoint that records what it gets and answers with `status` (or never). */
async function partnerServer(status: number | 'hang') {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      if (status !== 'hang') res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { received, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function verifyPush(
  token: string,
  jwks: ReturnType<ReturnType<typeof createPushRecorder>['jwks']>,
  clock: Clock,
  audience: string,
) {
  return jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: ['EdDSA'],
    issuer: 's.whatsapp.net',
    audience,
    currentDate: new Date(clock.now()),
  });
}

describe('createPushRecorder', () => {
  it('records a push with its claims and sends nothing without a partner URL', async () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const push = createPushRecorder({ clock, transcript, seed: 'run' });
    const result = push.push(ALICE);
    expect(result.claims).toEqual({
      iss: 's.whatsapp.net',
      aud: 'https://partner.example',
      sub: ALICE,
      iat: T0 / 1000,
      exp: T0 / 1000 + 300,
    });
    // Recorded in the same turn as the call, before any await.
    expect(transcript.events).toEqual([
      {
        kind: 'event',
        seq: 1,
        clock: T0,
        event: 'push',
        address: ALICE,
        detail: { claims: result.claims, kid: push.kid, posted: false },
      },
    ]);
    expect(await result.delivery).toEqual({ outcome: 'not_configured' });
    const { payload, protectedHeader } = await verifyPush(result.token, push.jwks(), clock, push.audience);
    expect(payload).toEqual(result.claims);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: push.kid, typ: 'JWT' });
    expect(transcript.events).toHaveLength(1);
  });

  it('derives its key from the seed, and publishes only the public half', () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const a = createPushRecorder({ clock, transcript, seed: 'run' });
    const b = createPushRecorder({ clock, transcript, seed: 'run' });
    const c = createPushRecorder({ clock, transcript, seed: 'other' });
    expect(a.jwks()).toEqual(b.jwks());
    expect(a.push(ALICE).token).toBe(b.push(ALICE).token);
    expect(c.kid).not.toBe(a.kid);
    expect(a.jwks().keys).toHaveLength(1);
    expect(a.jwks().keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: a.kid });
    expect(a.jwks().keys[0]).not.toHaveProperty('d');
  });

  it('a JWT stops verifying 300 s later, and never verifies under another key set', async () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const push = createPushRecorder({ clock, transcript, seed: 'run' });
    const other = createPushRecorder({ clock, transcript, seed: 'other' });
    const { token } = push.push(ALICE);
    await expect(verifyPush(token, other.jwks(), clock, push.audience)).rejects.toThrow();
    clock.advance(300_000);
    await expect(verifyPush(token, push.jwks(), clock, push.audience)).rejects.toThrow(/exp/);
  });

  it('POSTs to the partner with the bearer JWT, aud its origin', async () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const partner = await partnerServer(204);
    const push = createPushRecorder({
      clock,
      transcript,
      seed: 'run',
      partnerPushUrl: `${partner.origin}/push`,
    });
    expect(push.audience).toBe(partner.origin);
    const result = push.push(ALICE);
    expect(await result.delivery).toEqual({ outcome: 'sent', status: 204 });
    expect(partner.received).toHaveLength(1);
    const got = partner.received[0] as Received;
    expect(got).toMatchObject({ method: 'POST', url: '/push', contentType: 'application/json' });
    expect(JSON.parse(got.body)).toEqual({ to: ALICE });
    const bearer = got.authorization?.replace(/^Bearer /, '') ?? '';
    expect(bearer).toBe(result.token);
    expect(decodeProtectedHeader(bearer).kid).toBe(push.kid);
    const { payload } = await verifyPush(bearer, push.jwks(), clock, partner.origin);
    expect(payload.sub).toBe(ALICE);
    expect(transcript.events.map((e) => [e.event, e.detail?.outcome ?? e.detail?.posted])).toEqual([
      ['push', true],
      ['push_delivery', 'sent'],
    ]);
  });

  it('records a refused connection, an error status and a timeout, and never throws', async () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const failing = await partnerServer(503);
    const hanging = await partnerServer('hang');
    // A port that was just free: nothing listens there.
    const closed = await partnerServer(200);
    await closers.pop()?.();

    const cases: [string, RegExp | number][] = [
      [`${failing.origin}/push`, 503],
      [`${hanging.origin}/push`, /no answer within 200 ms/],
      [`${closed.origin}/push`, /fetch failed/],
    ];
    for (const [url, expected] of cases) {
      const push = createPushRecorder({ clock, transcript, partnerPushUrl: url, timeoutMs: 200 });
      const delivery = await push.push(ALICE).delivery;
      expect(delivery.outcome).toBe('failed');
      if (typeof expected === 'number')
        expect(delivery).toMatchObject({ status: expected, error: 'HTTP 503' });
      else expect(delivery).toMatchObject({ error: expect.stringMatching(expected) });
      expect(transcript.events.at(-1)).toMatchObject({
        event: 'push_delivery',
        detail: { url, outcome: 'failed' },
      });
    }
  });

  it('idle() waits for every POST under way', async () => {
    const clock = testClock();
    const transcript = testTranscript(clock);
    const partner = await partnerServer(200);
    const push = createPushRecorder({ clock, transcript, partnerPushUrl: `${partner.origin}/push` });
    push.push(ALICE);
    push.push('1-2@interop');
    await push.idle();
    expect(partner.received).toHaveLength(2);
    expect(transcript.events.filter((e) => e.event === 'push_delivery')).toHaveLength(2);
  });
});
