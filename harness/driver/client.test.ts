// The HTTP driver against real sockets on 127.0.0.1: a well-behaved candidate, then one failure
// mode at a time. Each failure must give its code and name the endpoint, within the time limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpDriverOptions } from './client.ts';
import { checkManifest, createHttpDriver } from './client.ts';
import type { CandidateDriver, Manifest } from './contract.ts';
import { DRIVER_CONTRACT_VERSION } from './contract.ts';
import { DriverError } from './errors.ts';
import { serveFakeCandidate } from './testing/fake-candidate.ts';

const ALICE = '491701234567@s.whatsapp.net';
const CONNECT = {
  httpUrl: 'http://127.0.0.1:40123',
  wsUrl: 'ws://127.0.0.1:40123/ws/chat',
  partner: { sub: '10853634039893', tokenUrl: 'http://127.0.0.1:40123/partner/token' },
};
const MANIFEST: Manifest = {
  name: 'raw',
  version: '1',
  contractVersion: DRIVER_CONTRACT_VERSION,
  cryptoProfile: 'signal-pqxdh',
  features: [],
};
// Short limits keep every failure test well under a second.
const FAST: HttpDriverOptions = { timeoutMs: 300, retries: 2, retryDelayMs: 5, longPollSlackMs: 200 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function driver(url: string, options: HttpDriverOptions = FAST) {
  const d = createHttpDriver(url, options);
  cleanups.push(() => d.close());
  return d;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A server that answers with whatever the test says, counting requests by `METHOD path`. */
async function rawServer(handler: Handler) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    count: (key: string) => hits.filter((h) => h === key).length,
  };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** The DriverError a call fails with; fails the test if it succeeds or throws something else. */
async function failure(p: Promise<unknown>): Promise<DriverError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DriverError);
  return e as DriverError;
}

describe('createHttpDriver against a well-behaved candidate', () => {
  it('passes every call, validates every answer and logs each one', async () => {
    const served = await serveFakeCandidate();
    cleanups.push(served.close);
    const d = driver(served.url, { timeoutMs: 2000 });
    expect(await d.manifest()).toMatchObject({ contractVersion: DRIVER_CONTRACT_VERSION });
    expect(await d.reset()).toEqual({ ok: true });
    expect(await d.connect(CONNECT)).toEqual({ jid: '1-10853634039893@interop' });
    const { id } = await d.send({ to: ALICE, content: { type: 'image', media: { fixture: 'photo.jpg' } } });
    expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(await d.read({ from: ALICE, ids: ['3EB09F1E2D3C4B5A697887'] })).toEqual({ ok: true });
    expect(await d.typing({ to: ALICE, state: 'composing' })).toEqual({ ok: true });
    expect(await d.block({ jid: ALICE })).toEqual({ ok: true });
    expect(await d.unblock({ jid: ALICE })).toEqual({ ok: true });
    const first = await d.events(0, 0);
    expect(first.events.map((e) => e.type)).toEqual(['connection', 'message-sent']);
    expect(first.last).toBe(2);
    expect(await d.disconnect()).toEqual({ ok: true });
    expect(served.fake.calls.map((c) => c.endpoint)).toEqual([
      'manifest',
      'reset',
      'connect',
      'send',
      'read',
      'typing',
      'block',
      'unblock',
      'events',
      'disconnect',
    ]);
    const log = d.log.entries();
    expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toContain(
      'GET /v1/events?after=0&wait=0 200',
    );
    expect(log.every((e) => e.error === undefined && e.durationMs >= 0 && e.attempt === 1)).toBe(true);
    expect(log.find((e) => e.endpoint === 'send')?.request).toEqual({
      to: ALICE,
      content: { type: 'image', media: { fixture: 'photo.jpg' } },
    });
  });

  it('long-polls: answers as soon as an event exists, else after the wait with none', async () => {
    const served = await serveFakeCandidate();
    cleanups.push(served.close);
    const d = driver(served.url, { timeoutMs: 100, longPollSlackMs: 500 });
    setTimeout(() => served.fake.emit({ type: 'security-notice', jid: ALICE }), 50);
    const t0 = Date.now();
    // wait (2 s) plus slack, not timeoutMs (100 ms), bounds a long-poll.
    const got = await d.events(0, 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(got).toMatchObject({ events: [{ seq: 1, type: 'security-notice' }], last: 1 });
    const t1 = Date.now();
    expect(await d.events(1, 250)).toEqual({ events: [], last: 1 });
    expect(Date.now() - t1).toBeGreaterThanOrEqual(240);
  });

  it('appends endpoints to a base URL with a path', async () => {
    const server = await rawServer((req, res) =>
      req.url === '/driver/v1/manifest' ? json(res, 200, MANIFEST) : json(res, 404, {}),
    );
    expect(await driver(`${server.url}/driver/`).manifest()).toEqual(MANIFEST);
  });

  it('refuses a base URL that is not http', () => {
    expect(() => createHttpDriver('ftp://127.0.0.1/')).toThrow(/HRN_ERR_USAGE/);
    expect(() => createHttpDriver('not a url')).toThrow(/HRN_ERR_USAGE/);
  });
});

describe('createHttpDriver against a broken candidate', () => {
  it('connection refused: UNREACHABLE after the retries of an idempotent call', async () => {
    const server = await rawServer(() => {});
    const url = server.url;
    await cleanups.pop()?.();
    const d = driver(url);
    const e = await failure(d.manifest());
    expect(e.code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect(e.message).toContain('GET /v1/manifest');
    expect(e.message).toMatch(/connection refused.*\(3 attempts\)/);
    expect(d.log.entries().map((x) => x.attempt)).toEqual([1, 2, 3]);
    const s = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'hi' } }));
    expect(s.code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect(s.message).not.toContain('attempts');
  });

  it('a server that never answers: TIMEOUT within the configured time, and the request is dropped', async () => {
    let closed = 0;
    const server = await rawServer((_req, res) => {
      res.on('close', () => closed++);
    });
    const d = driver(server.url);
    const t0 = Date.now();
    const e = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'hi' } }));
    const took = Date.now() - t0;
    expect(e.code).toBe('HRN_ERR_DRIVER_TIMEOUT');
    expect(e.message).toBe('HRN_ERR_DRIVER_TIMEOUT: POST /v1/send: no answer within 300 ms');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1000);
    // The harness lets go of the connection instead of leaving it hanging.
    await expect.poll(() => closed, { timeout: 500, interval: 10 }).toBe(1);
    // A timeout is a verdict, not a glitch: not retried, even for an idempotent call.
    await failure(d.manifest());
    expect(server.count('GET /v1/manifest')).toBe(1);
  });

  it('a long-poll that outlives wait plus slack: TIMEOUT', async () => {
    const server = await rawServer(() => {});
    const e = await failure(driver(server.url).events(0, 100));
    expect(e.code).toBe('HRN_ERR_DRIVER_TIMEOUT');
    expect(e.message).toContain('GET /v1/events: no answer within 300 ms');
  });

  it('a body that trickles: TIMEOUT that says the answer began', async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":');
      const t = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(t));
    });
    const t0 = Date.now();
    const e = await failure(driver(server.url).reset());
    expect(e.code).toBe('HRN_ERR_DRIVER_TIMEOUT');
    expect(e.message).toContain('POST /v1/reset: the answer began but did not finish within 300 ms');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('malformed JSON: BAD_JSON with a snippet', async () => {
    const server = await rawServer((_req, res) => res.writeHead(200).end('{"name": "x",'));
    const e = await failure(driver(server.url).manifest());
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_JSON');
    expect(e.message).toMatch(
      /^HRN_ERR_DRIVER_BAD_JSON: GET \/v1\/manifest: the answer is not JSON .*"\{\\"name\\": \\"x\\","$/,
    );
  });

  it('an empty 200 body: BAD_JSON', async () => {
    const server = await rawServer((_req, res) => res.writeHead(200).end());
    const e = await failure(driver(server.url).typing({ to: ALICE, state: 'paused' }));
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_JSON');
    expect(e.message).toContain('POST /v1/typing');
  });

  it('wrong types: BAD_RESPONSE with the path of each problem', async () => {
    const server = await rawServer((_req, res) =>
      json(res, 200, { ...MANIFEST, name: 5, features: ['telepathy'] }),
    );
    const e = await failure(driver(server.url).manifest());
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_RESPONSE');
    expect(e.message).toContain('GET /v1/manifest: the answer breaks manifest.schema.json');
    expect(e.problems.map((p) => p.path).sort()).toEqual(['/features/0', '/name']);
  });

  it('missing fields: BAD_RESPONSE naming the member', async () => {
    const server = await rawServer((_req, res) => json(res, 200, {}));
    const e = await failure(driver(server.url).send({ to: ALICE, content: { type: 'text', text: 'hi' } }));
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_RESPONSE');
    expect(e.message).toContain('POST /v1/send: the answer breaks send-response.schema.json: /id is missing');
  });

  it('an event of the wrong shape: the problem of its own type only', async () => {
    const event = { seq: 1, at: 1, type: 'message-rejected', id: '3EB0C4F7A1D2E3F4A5B6C7' };
    const server = await rawServer((_req, res) => json(res, 200, { events: [event], last: 1 }));
    const e = await failure(driver(server.url).events(0, 0));
    expect(e.problems).toEqual([{ path: '/events/0/reason', message: 'is missing' }]);
  });

  it('events out of order: BAD_RESPONSE for a gap in seq', async () => {
    const ev = (seq: number) => ({ seq, at: 1, type: 'security-notice', jid: ALICE });
    const server = await rawServer((_req, res) => json(res, 200, { events: [ev(4), ev(6)], last: 6 }));
    const e = await failure(driver(server.url).events(3, 0));
    expect(e.code).toBe('HRN_ERR_DRIVER_BAD_RESPONSE');
    expect(e.message).toContain(
      "GET /v1/events: the answer breaks the event log's order: /events/1/seq must be 5",
    );
  });

  it('a huge body: TOO_LARGE, and reading stops', async () => {
    let written = 0;
    const total = 64 * 1024 * 1024;
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const e = await failure(driver(server.url, { ...FAST, maxBodyBytes: 1024 * 1024 }).manifest());
    expect(e.code).toBe('HRN_ERR_DRIVER_TOO_LARGE');
    expect(e.message).toContain('GET /v1/manifest: the answer went past 1048576 bytes');
    expect(written).toBeLessThan(total / 2);
  });

  it('a declared Content-Length beyond the limit: TOO_LARGE before reading', async () => {
    const server = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(100 * 1024 * 1024) });
      res.write('{');
    });
    const e = await failure(driver(server.url, { ...FAST, maxBodyBytes: 1000 }).events(0, 0));
    expect(e.code).toBe('HRN_ERR_DRIVER_TOO_LARGE');
    expect(e.message).toContain('GET /v1/events: the answer declares 104857600 bytes');
  });

  it('500 with a proper error body: DRIVER_ERROR carrying the candidate error', async () => {
    const server = await rawServer((_req, res) =>
      json(res, 500, {
        error: { code: 'connect_failed', message: 'enlistment refused: bad_token', detail: 'x' },
      }),
    );
    const e = await failure(driver(server.url).connect(CONNECT));
    expect(e.code).toBe('HRN_ERR_DRIVER_ERROR');
    expect(e.message).toBe(
      'HRN_ERR_DRIVER_ERROR: POST /v1/connect: the candidate answered HTTP 500 connect_failed: enlistment refused: bad_token',
    );
    expect(e.status).toBe(500);
    expect(e.candidateError).toEqual({ code: 'connect_failed', message: 'enlistment refused: bad_token' });
  });

  it('500 without an error body: HTTP_STATUS', async () => {
    const server = await rawServer((_req, res) => res.writeHead(500).end('<h1>Internal Server Error</h1>'));
    const e = await failure(driver(server.url).block({ jid: ALICE }));
    expect(e.code).toBe('HRN_ERR_DRIVER_HTTP_STATUS');
    expect(e.message).toContain('POST /v1/block: HTTP 500, and the body is not a JSON error: "<h1>');
    const other = await rawServer((_req, res) => json(res, 404, { message: 'no such route' }));
    const n = await failure(driver(other.url).unblock({ jid: ALICE }));
    expect(n.code).toBe('HRN_ERR_DRIVER_HTTP_STATUS');
    expect(n.message).toContain('POST /v1/unblock: HTTP 404, and the body is not an error answer');
  });

  it('a manifest of another contract version: CONTRACT_VERSION naming both', async () => {
    // Another version may have another shape: the version is the diagnosis, not the shape.
    const server = await rawServer((_req, res) => json(res, 200, { contractVersion: '2.0', profile: 'x' }));
    const e = await failure(driver(server.url).manifest());
    expect(e.code).toBe('HRN_ERR_DRIVER_CONTRACT_VERSION');
    expect(e.message).toContain('GET /v1/manifest: the candidate implements driver contract "2.0"');
    expect(e.message).toContain(`this harness speaks "${DRIVER_CONTRACT_VERSION}"`);
    expect(() => checkManifest({ contractVersion: '1.1' })).toThrow(/HRN_ERR_DRIVER_CONTRACT_VERSION/);
    expect(() => checkManifest(MANIFEST)).not.toThrow();
  });

  it('retries GETs and reset after a dropped connection, never POST /v1/send', async () => {
    const server = await rawServer((req) => req.socket.destroy());
    const d = driver(server.url);
    expect((await failure(d.events(0, 0))).code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect((await failure(d.manifest())).code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect((await failure(d.reset())).code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    const send = await failure(d.send({ to: ALICE, content: { type: 'text', text: 'once' } }));
    expect(send.message).toContain('POST /v1/send: the connection closed before a complete answer');
    expect((await failure(d.connect(CONNECT))).code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect(server.count('GET /v1/events?after=0&wait=0')).toBe(3);
    expect(server.count('GET /v1/manifest')).toBe(3);
    expect(server.count('POST /v1/reset')).toBe(3);
    expect(server.count('POST /v1/send')).toBe(1);
    expect(server.count('POST /v1/connect')).toBe(1);
  });

  it('a retry that succeeds returns the answer, and the log keeps the failed attempt', async () => {
    let n = 0;
    const server = await rawServer((req, res) =>
      ++n === 1 ? req.socket.destroy() : json(res, 200, MANIFEST),
    );
    const d = driver(server.url);
    expect(await d.manifest()).toEqual(MANIFEST);
    expect(d.log.entries().map((e) => [e.attempt, e.error?.code])).toEqual([
      [1, 'HRN_ERR_DRIVER_UNREACHABLE'],
      [2, undefined],
    ]);
  });

  it('never sends a request that breaks its schema (a harness bug)', async () => {
    const server = await rawServer((_req, res) => json(res, 200, { ok: true }));
    const d: CandidateDriver = driver(server.url);
    const e = await failure(d.read({ from: 'alice', ids: [] }));
    expect(e.code).toBe('HRN_ERR_INTERNAL');
    expect(e.message).toContain(
      'POST /v1/read: the harness built a request that breaks read-request.schema.json',
    );
    expect((await failure(d.events(-1, 0))).code).toBe('HRN_ERR_INTERNAL');
    expect((await failure(d.events(0, 120_000))).code).toBe('HRN_ERR_INTERNAL');
    expect(server.hits).toEqual([]);
  });
});
