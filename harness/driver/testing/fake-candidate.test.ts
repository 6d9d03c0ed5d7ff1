// The fake candidate keeps the event-log rules a real one must keep, and serveDriver answers
// like a server of the contract: routes, methods, request checks and error bodies.
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpDriver } from '../client.ts';
import { DriverError } from '../errors.ts';
import { validateDriver } from '../validate.ts';
import type { ServedFake } from './fake-candidate.ts';
import { createFakeCandidate, serveFakeCandidate } from './fake-candidate.ts';

const ALICE = '491701234567@s.whatsapp.net';
const CONNECT = {
  httpUrl: 'http://127.0.0.1:40123',
  wsUrl: 'ws://127.0.0.1:40123/ws/chat',
  partner: { sub: '42', tokenUrl: 'http://127.0.0.1:40123/partner/token' },
};

let served: ServedFake | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

describe('createFakeCandidate', () => {
  it('numbers events from 1 without gaps, and reset starts over', async () => {
    const fake = createFakeCandidate({ now: () => 1000 });
    await fake.connect(CONNECT);
    fake.emit({ type: 'security-notice', jid: ALICE });
    expect(await fake.events(0, 0)).toEqual({
      events: [
        { type: 'connection', state: 'connected', seq: 1, at: 1000 },
        { type: 'security-notice', jid: ALICE, seq: 2, at: 1000 },
      ],
      last: 2,
    });
    expect(await fake.events(1, 0)).toMatchObject({ events: [{ seq: 2 }], last: 2 });
    await fake.reset();
    expect(fake.jid).toBeUndefined();
    expect(await fake.events(0, 0)).toEqual({ events: [], last: 0 });
    expect(fake.emit({ type: 'typing', from: ALICE, state: 'paused' }).seq).toBe(1);
  });

  it('answers a long-poll when an event arrives, and release answers it at once', async () => {
    const fake = createFakeCandidate();
    const waiting = fake.events(0, 10_000);
    fake.emit({ type: 'receipt-received', from: ALICE, receipt: 'read', ids: ['3EB0C4F7A1D2E3F4A5B6C7'] });
    expect((await waiting).last).toBe(1);
    const t0 = Date.now();
    const idle = fake.events(1, 10_000);
    fake.release();
    expect(await idle).toEqual({ events: [], last: 1 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('answers every call with a body its schema accepts', async () => {
    const fake = createFakeCandidate();
    expect(validateDriver('manifest', await fake.manifest())).toEqual([]);
    expect(validateDriver('connect-response', await fake.connect(CONNECT))).toEqual([]);
    const sent = await fake.send({ to: ALICE, content: { type: 'text', text: 'hi' } });
    expect(validateDriver('send-response', sent)).toEqual([]);
    expect(validateDriver('events-response', await fake.events(0, 0))).toEqual([]);
    expect(validateDriver('ok-response', await fake.disconnect())).toEqual([]);
  });
});

describe('serveFakeCandidate over HTTP', () => {
  it('drives the fake through the HTTP client, errors included', async () => {
    served = await serveFakeCandidate();
    const d = createHttpDriver(served.url, { timeoutMs: 2000 });
    try {
      const e = await d
        .send({ to: ALICE, content: { type: 'text', text: 'early' } })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DriverError);
      expect((e as DriverError).candidateError?.code).toBe('not_connected');
      await d.connect(CONNECT);
      served.fake.failNext('read');
      await expect(d.read({ from: ALICE, ids: ['3EB0C4F7A1D2E3F4A5B6C7'] })).rejects.toThrow(
        'HRN_ERR_DRIVER_ERROR: POST /v1/read: the candidate answered HTTP 500 internal: injected failure',
      );
      expect(served.server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /v1/send',
        'POST /v1/connect',
        'POST /v1/read',
      ]);
    } finally {
      await d.close();
    }
  });

  it('answers unknown paths, wrong methods, bad bodies and bad queries with error bodies', async () => {
    served = await serveFakeCandidate();
    const call = async (method: string, path: string, body?: string) => {
      const res = await fetch(served?.url + path, { method, ...(body !== undefined && { body }) });
      const json = (await res.json()) as unknown;
      expect(validateDriver('error-response', json), `${method} ${path}`).toEqual([]);
      return {
        status: res.status,
        allow: res.headers.get('allow'),
        error: (json as { error: { code: string } }).error,
      };
    };
    expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, error: { code: 'not_found' } });
    expect(await call('GET', '/v1/send')).toMatchObject({ status: 405, allow: 'POST' });
    expect(await call('POST', '/v1/send', '{"to":')).toMatchObject({
      status: 400,
      error: { code: 'bad_request' },
    });
    const bad = await call('POST', '/v1/send', JSON.stringify({ to: ALICE, content: { type: 'fax' } }));
    expect(bad).toMatchObject({
      status: 400,
      error: { code: 'bad_request', message: expect.stringContaining('/content/type') },
    });
    expect(await call('GET', '/v1/events?after=-1&wait=0')).toMatchObject({ status: 400 });
    expect(await call('GET', '/v1/events?after=0&wait=60001')).toMatchObject({ status: 400 });
    expect(await call('GET', '/v1/events?after=0')).toMatchObject({ status: 400 });
    expect(served.fake.calls).toEqual([]);
  });
});
