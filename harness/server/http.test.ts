// The HTTP side of the one port, over a real loopback server: every route, enlistment end to end
// with a real signed prekey, its refusals (always HTTP 200 JSON), media through a grant, the push
// key set, and an internal error answered 500 and recorded as a harness error.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encryptMedia, uploadToken } from '../crypto/media.ts';
import type { KeyUpload } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import type { HttpHandlerOptions } from './http.ts';
import { createHttpHandler } from './http.ts';
import { createMediaService } from './media-service.ts';
import { createTestPartner } from './partner.ts';
import { createPushRecorder } from './push.ts';
import { testClock, testTranscript } from './testing/fakes.ts';
import type { Enlister, EnlistFields } from './types.ts';

const SUB = '10853634039893';
const FORM = 'application/x-www-form-urlencoded';

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

function enlistForm(upload: KeyUpload, token: string, set: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    authkey: b64u(new Uint8Array(32).fill(9)),
    e_keytype: 'BQ',
    e_regid: b64u(be(upload.registrationId, 4)),
    e_ident: b64u(upload.identityKey),
    e_skey_id: b64u(be(upload.signedPreKey.id, 3)),
    e_skey_val: b64u(upload.signedPreKey.publicKey),
    e_skey_sig: b64u(upload.signedPreKey.signature),
    token,
    ...set,
  };
  return new URLSearchParams(fields).toString();
}

let upload: KeyUpload;
beforeAll(async () => {
  upload = (await getProfile('signal-x3dh').createIdentity({ preKeyCount: 0 })).keyUpload();
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function start(overrides: Partial<HttpHandlerOptions> = {}) {
  const clock = testClock();
  const transcript = testTranscript(clock);
  const partner = createTestPartner({ seed: 'http', clock });
  const enlister = fakeEnlister();
  const push = createPushRecorder({ clock, transcript, seed: 'http' });
  let port = 0;
  const media = createMediaService({ clock, host: () => `127.0.0.1:${port}` });
  const handler = createHttpHandler({
    enlistment: { verifier: partner.verifier(clock), enlister },
    media,
    push,
    transcript,
    clock,
    ...overrides,
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${port}`;
  const enlist = async (body: string, contentType = FORM) => {
    const res = await fetch(`${base}/3p/interop_reg`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    return res.json() as Promise<Record<string, string>>;
  };
  return { clock, transcript, partner, enlister, push, media, base, enlist };
}

describe('routes', () => {
  it('answers health, the push key set, and 404/405/426 in JSON', async () => {
    const { base, push } = await start();
    const get = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${base}${path}`, init);
      expect(res.headers.get('content-type')).toBe('application/json');
      return [res.status, await res.json()];
    };
    expect(await get('/health')).toEqual([200, { status: 'ok' }]);
    expect(await get('/.well-known/jwks.json')).toEqual([200, push.jwks()]);
    // The partner's key set is configuration of the run, not something this server publishes.
    expect(await get('/partner/jwks.json')).toEqual([404, { error: 'not_found' }]);
    expect(await get('/nothing/here')).toEqual([404, { error: 'not_found' }]);
    expect(await get('/mms/image')).toEqual([404, { error: 'not_found' }]);
    expect(await get('/3p/interop_reg')).toEqual([405, { error: 'method_not_allowed' }]);
    expect(await get('/health', { method: 'POST', body: 'x' })).toEqual([
      405,
      { error: 'method_not_allowed' },
    ]);
    expect(await get('/ws/chat')).toEqual([426, { error: 'upgrade_required' }]);
  });

  it('answers 400 to a request target that is no URL, without calling it an internal error', async () => {
    const { base, transcript } = await start();
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    socket.end('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toMatch(/\{"error":"bad_request"\}$/);
    expect(transcript.events).toEqual([]);
  });
});

describe('POST /3p/interop_reg', () => {
  it('enlists with a real signed prekey and answers as PROFILE §5.1 step 5 shows', async () => {
    const { partner, enlister, enlist, transcript } = await start();
    const reply = await enlist(enlistForm(upload, await partner.issueToken(SUB)));
    expect(reply).toEqual({ login: `1-${SUB}@interop`, status: 'ok' });
    expect(enlister.calls).toHaveLength(1);
    const { fields, sub } = enlister.calls[0] as { fields: EnlistFields; sub: string };
    expect(sub).toBe(SUB);
    expect(fields.identityKey).toEqual(new Uint8Array(upload.identityKey));
    expect(fields.registrationId).toBe(upload.registrationId);
    expect(transcript.events.map((e) => e.event)).toEqual(['enlist']);
  });

  it('answers each failure reason with HTTP 200 and records its violation', async () => {
    const { partner, enlist, transcript, enlister } = await start();
    const token = await partner.issueToken(SUB);
    const sig = Buffer.from(upload.signedPreKey.signature);
    sig[63] = (sig[63] as number) ^ 0x01;
    const cases: [string, string, string][] = [
      [enlistForm(upload, token, { e_ident: 'short' }), 'bad_request', 'VIO_ENLIST_BAD_REQUEST'],
      [enlistForm(upload, token, { e_keytype: 'AA' }), 'bad_key_type', 'VIO_ENLIST_BAD_KEY_TYPE'],
      [enlistForm(upload, token, { e_skey_sig: b64u(sig) }), 'bad_signature', 'VIO_ENLIST_BAD_SIGNATURE'],
      [
        enlistForm(upload, await partner.issueToken(SUB, { alg: 'none' })),
        'bad_token',
        'VIO_ENLIST_BAD_TOKEN',
      ],
    ];
    for (const [body, reason, code] of cases) {
      expect(await enlist(body)).toEqual({ status: 'fail', reason });
      expect(transcript.events.at(-1)?.violations?.map((v) => v.code)).toEqual([code]);
    }
    expect(enlister.calls).toHaveLength(0);
  });

  it('rate-limits the eleventh enlistment of a sub within 60 s', async () => {
    const { partner, enlist } = await start();
    for (let i = 0; i < 10; i++) {
      expect((await enlist(enlistForm(upload, await partner.issueToken(SUB)))).status).toBe('ok');
    }
    expect(await enlist(enlistForm(upload, await partner.issueToken(SUB)))).toEqual({
      status: 'fail',
      reason: 'rate_limited',
    });
  });

  it('fails bad_request for another content type, and for a body over the limit without reading it', async () => {
    const { partner, enlist, transcript, base } = await start();
    const body = enlistForm(upload, await partner.issueToken(SUB));
    expect(await enlist(body, 'application/json')).toEqual({ status: 'fail', reason: 'bad_request' });
    expect(transcript.events.at(-1)?.violations?.[0]?.message).toMatch(/content type is "application\/json"/);
    // A charset parameter is fine.
    expect((await enlist(body, `${FORM}; charset=utf-8`)).status).toBe('ok');

    expect(await enlist(`${body}&pad=${'x'.repeat(16 * 1024)}`)).toEqual({
      status: 'fail',
      reason: 'bad_request',
    });
    expect(transcript.events.at(-1)?.violations?.[0]?.message).toBe('body is larger than 16384 bytes');

    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 32 * 1024 * 1024) return controller.close();
        pulled += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x61));
      },
    });
    const res = await fetch(`${base}/3p/interop_reg`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect([res.status, await res.json()]).toEqual([200, { status: 'fail', reason: 'bad_request' }]);
    expect(pulled).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('media through the handler', () => {
  it('uploads with a grant and downloads by the direct path', async () => {
    const { media, base, transcript } = await start();
    const enc = encryptMedia(Buffer.from('voice'), 'audio');
    const { auth, hosts } = media.grant(`1-${SUB}@interop`);
    expect(`http://${hosts[0]}`).toBe(base);
    const res = await fetch(`${base}/mms/audio/${uploadToken(enc.fileEncSha256)}?auth=${auth}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: enc.blob,
    });
    const json = (await res.json()) as { url: string; direct_path: string };
    expect(res.status).toBe(200);
    const down = await fetch(json.url);
    expect(Buffer.from(await down.arrayBuffer())).toEqual(enc.blob);
    const mismatch = await fetch(`${base}/mms/audio/${uploadToken(enc.fileSha256)}?auth=${auth}`, {
      method: 'POST',
      body: enc.blob,
    });
    expect([mismatch.status, await mismatch.json()]).toEqual([400, { error: 'hash_mismatch' }]);
    expect(transcript.events.at(-1)?.violations?.[0]?.code).toBe('VIO_MEDIA_UPLOAD_HASH_MISMATCH');
  });
});

describe('internal errors', () => {
  it('answers 500 JSON, records HRN_ERR_INTERNAL and keeps serving', async () => {
    const clock = testClock();
    const media = createMediaService({ clock, host: 'h' });
    const broken = {
      ...media,
      get: () => {
        throw new Error('disk on fire');
      },
    };
    const { base, transcript } = await start({ media: broken });
    const res = await fetch(`${base}/v/image/AAAAAAAAAAAAAAAAAAAAAA`);
    expect([res.status, await res.json()]).toEqual([500, { error: 'internal' }]);
    expect(transcript.events.at(-1)).toMatchObject({
      event: 'http_error',
      detail: {
        code: 'HRN_ERR_INTERNAL',
        method: 'GET',
        path: '/v/image/AAAAAAAAAAAAAAAAAAAAAA',
        message: 'disk on fire',
      },
    });
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
