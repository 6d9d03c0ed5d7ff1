// The in-process adapter holds a TypeScript candidate to the HTTP client's rules: the same
// validation, errors, deadlines and log, and nothing shared by reference.
import { describe, expect, it } from 'vitest';
import type { CandidateDriver, Manifest, SendRequest } from './contract.ts';
import { DRIVER_CONTRACT_VERSION } from './contract.ts';
import { CandidateError, DriverError } from './errors.ts';
import { inProcessDriver } from './in-process.ts';
import { createFakeCandidate } from './testing/fake-candidate.ts';

const ALICE = '491701234567@s.whatsapp.net';
const CONNECT = {
  httpUrl: 'http://127.0.0.1:40123',
  wsUrl: 'ws://127.0.0.1:40123/ws/chat',
  partner: { sub: '5550001', tokenUrl: 'http://127.0.0.1:40123/partner/token' },
};

async function failure(p: Promise<unknown>): Promise<DriverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DriverError);
  return e as DriverError;
}

/** A fake whose methods a test replaces one by one. */
function patched(overrides: Partial<Record<keyof CandidateDriver, (...args: never[]) => unknown>>) {
  return Object.assign(createFakeCandidate(), overrides) as CandidateDriver;
}

describe('inProcessDriver', () => {
  it('passes every call of a well-behaved candidate and logs it', async () => {
    const fake = createFakeCandidate();
    const d = inProcessDriver(fake);
    expect((await d.manifest()).contractVersion).toBe(DRIVER_CONTRACT_VERSION);
    await d.reset();
    expect(await d.connect(CONNECT)).toEqual({ jid: '1-5550001@interop' });
    await d.send({ to: ALICE, content: { type: 'text', text: 'hi' } });
    await d.read({ from: ALICE, ids: ['3EB09F1E2D3C4B5A697887'], type: 'played' });
    await d.typing({ to: ALICE, state: 'composing', media: 'audio' });
    await d.block({ jid: ALICE });
    expect(fake.blocked.has(ALICE)).toBe(true);
    await d.unblock({ jid: ALICE });
    expect((await d.events(0, 0)).last).toBe(2);
    await d.disconnect();
    expect(d.log.entries().map((e) => e.path)).toEqual([
      '/v1/manifest',
      '/v1/reset',
      '/v1/connect',
      '/v1/send',
      '/v1/read',
      '/v1/typing',
      '/v1/block',
      '/v1/unblock',
      '/v1/events?after=0&wait=0',
      '/v1/disconnect',
    ]);
  });

  it('shares nothing by reference, either way', async () => {
    const fake = createFakeCandidate();
    const d = inProcessDriver(fake);
    await d.connect(CONNECT);
    const req: { to: string; content: { type: 'text'; text: string } } = {
      to: ALICE,
      content: { type: 'text', text: 'before' },
    };
    await d.send(req);
    req.content.text = 'after';
    expect(fake.calls.at(-1)?.request).toEqual({ to: ALICE, content: { type: 'text', text: 'before' } });
    const m = (await d.manifest()) as unknown as { features: string[] };
    m.features.length = 0;
    expect((await d.manifest()).features.length).toBeGreaterThan(0);
  });

  it('holds answers to their schemas', async () => {
    const d = inProcessDriver(patched({ send: async () => ({ id: 42 }) }));
    const e = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'x' } }));
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_RESPONSE');
    expect(e.message).toContain(
      'POST /v1/send: the answer breaks send-response.schema.json: /id must be string',
    );
  });

  it('refuses answers JSON cannot carry', async () => {
    const big = inProcessDriver(patched({ send: async () => ({ id: 10n }) }));
    const e = await failure(big.send({ to: ALICE, content: { type: 'text', text: 'x' } }));
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_JSON');
    expect(e.message).toContain('POST /v1/send: the answer cannot be written as JSON');
    const none = inProcessDriver(patched({ reset: async () => undefined }));
    expect((await failure(none.reset())).message).toContain('POST /v1/reset: the answer is not a JSON value');
    // A Map becomes {} on the wire, and so here.
    const map = inProcessDriver(patched({ connect: async () => new Map([['jid', 'x']]) }));
    expect((await failure(map.connect(CONNECT))).problems).toEqual([{ path: '/jid', message: 'is missing' }]);
  });

  it('turns a CandidateError into DRIVER_ERROR, and any other throw into a 500 internal one', async () => {
    const fake = createFakeCandidate();
    const d = inProcessDriver(fake);
    const e = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'x' } }));
    expect(e.code).toBe('HRN_ERR_DRIVER_ERROR');
    expect(e.status).toBe(409);
    expect(e.candidateError?.code).toBe('not_connected');
    fake.failNext('typing', new TypeError('cannot read properties of undefined'));
    const t = await failure(d.typing({ to: ALICE, state: 'paused' }));
    expect(t.message).toBe(
      'HRN_ERR_DRIVER_ERROR: POST /v1/typing: the candidate answered HTTP 500 internal: cannot read properties of undefined',
    );
    fake.failNext('block', new CandidateError('unsupported', 'no blocking yet', 501));
    expect((await failure(d.block({ jid: ALICE }))).status).toBe(501);
    // A candidate's own error class with a code and a status is understood the same way.
    fake.failNext('unblock', Object.assign(new Error('not blocked'), { code: 'bad_request', status: 400 }));
    const own = await failure(d.unblock({ jid: ALICE }));
    expect([own.code, own.status, own.candidateError?.code]).toEqual([
      'HRN_ERR_DRIVER_ERROR',
      400,
      'bad_request',
    ]);
  });

  it('applies the deadlines to a candidate that never returns', async () => {
    const never = () => new Promise<never>(() => {});
    const d = inProcessDriver(patched({ send: never, events: never }), {
      timeoutMs: 100,
      longPollSlackMs: 50,
    });
    const t0 = Date.now();
    const e = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'x' } }));
    expect(e.message).toBe('HRN_ERR_DRIVER_TIMEOUT: POST /v1/send: no answer within 100 ms');
    const p = await failure(d.events(0, 100));
    expect(p.message).toBe('HRN_ERR_DRIVER_TIMEOUT: GET /v1/events: no answer within 150 ms');
    expect(Date.now() - t0).toBeLessThan(600);
  });

  it('checks the contract version, with or without schema validation', async () => {
    const manifest = async (): Promise<Manifest> => ({
      name: 'old',
      version: '1',
      contractVersion: '0.9',
      cryptoProfile: 'signal-x3dh',
      features: [],
    });
    for (const validate of [true, false]) {
      const e = await failure(inProcessDriver(patched({ manifest }), { validate }).manifest());
      expect(e.code).toBe('HRN_ERR_DRIVER_CONTRACT_VERSION');
      expect(e.message).toContain('"0.9"');
    }
  });

  it('with validate: false, passes answers through unchecked but still as copies', async () => {
    const d = inProcessDriver(patched({ send: async () => ({ id: 42, extra: true }) }), { validate: false });
    const bad = { to: 'nobody', content: { type: 'text', text: '' } } as unknown as SendRequest;
    expect(await d.send(bad)).toEqual({ id: 42, extra: true });
  });
});
