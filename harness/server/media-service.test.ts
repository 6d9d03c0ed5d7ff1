// Media grants and blobs on a virtual clock, and the upload and download routes of PROFILE §5.13
// over a real loopback HTTP server: round trip, every refusal with its status and JSON, the hash
// mismatch recorded as a violation, and an oversized upload cut off without reading it whole.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encryptMedia, uploadToken } from '../crypto/media.ts';
import { createMediaService, handleMediaDownload, handleMediaUpload } from './media-service.ts';
import { T0, testClock, testTranscript } from './testing/fakes.ts';

const DAY = 86_400_000;
const ALICE = '1-10853634039893@interop';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** Only the two media routes, wired the way http.ts wires them. */
async function mediaServer(opts: { maxBytes?: number } = {}) {
  const clock = testClock();
  const transcript = testTranscript(clock);
  let port = 0;
  const media = createMediaService({ clock, host: () => `127.0.0.1:${port}`, ...opts });
  const deps = { media, transcript, clock };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST') void handleMediaUpload(req, res, url, deps);
    else handleMediaDownload(res, url, deps);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { clock, transcript, media, base: `http://127.0.0.1:${port}` };
}

function upload(base: string, path: string, body: RequestInit['body']) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
  });
}

describe('createMediaService', () => {
  it('grants per address, valid for ttl seconds of server time', () => {
    const clock = testClock();
    const media = createMediaService({ clock, host: '127.0.0.1:40123' });
    const a = media.grant(ALICE);
    const b = media.grant('1-2@interop');
    expect(a.ttl).toBe(3600);
    expect(a.hosts).toEqual(['127.0.0.1:40123']);
    expect(a.auth).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.auth).not.toBe(b.auth);
    expect(media.holder(a.auth)).toBe(ALICE);
    expect(media.holder(b.auth)).toBe('1-2@interop');
    expect(media.holder('nope')).toBeUndefined();
    clock.advance(3600_000 - 1);
    expect(media.holder(a.auth)).toBe(ALICE);
    clock.advance(1);
    expect(media.holder(a.auth)).toBeUndefined();
  });

  it('keeps blobs for the retention period, then forgets them', () => {
    const clock = testClock();
    const media = createMediaService({ clock, host: 'h', retentionDays: 30 });
    const path = media.newDirectPath('image');
    expect(path).toMatch(/^\/v\/image\/[A-Za-z0-9_-]{22}$/);
    media.put(path, { bytes: Uint8Array.of(1), type: 'image', uploadedBy: ALICE, uploadedAt: clock.now() });
    clock.advance(30 * DAY - 1);
    expect(media.get(path)?.bytes).toEqual(Uint8Array.of(1));
    clock.advance(1);
    expect(media.get(path)).toBeUndefined();
  });
});

describe('upload and download over HTTP', () => {
  const enc = encryptMedia(Buffer.from('a picture of a cat'), 'image', new Uint8Array(32).fill(3));
  const token = uploadToken(enc.fileEncSha256);

  it('stores an upload and serves it back by its direct path', async () => {
    const { media, transcript, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const res = await upload(base, `/mms/image/${token}?auth=${auth}`, enc.blob);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as { url: string; direct_path: string };
    expect(Object.keys(json)).toEqual(['url', 'direct_path']);
    expect(json.direct_path).toMatch(/^\/v\/image\/[A-Za-z0-9_-]{22}$/);
    expect(json.url).toBe(`${base}${json.direct_path}`);
    expect(media.get(json.direct_path)).toMatchObject({ type: 'image', uploadedBy: ALICE, uploadedAt: T0 });

    const down = await fetch(`${base}${json.direct_path}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await down.arrayBuffer())).toEqual(enc.blob);
    expect(transcript.events.map((e) => [e.event, e.detail?.status])).toEqual([
      ['media_upload', 200],
      ['media_download', 200],
    ]);
    expect(transcript.events[0]?.address).toBe(ALICE);
  });

  it('records the query an upload carries, but never the auth credential', async () => {
    const { media, transcript, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const res = await upload(base, `/mms/image/${token}?auth=${auth}&filename=cat.jpg`, enc.blob);
    expect(res.status).toBe(200);
    const detail = transcript.events[0]?.detail;
    expect(detail?.query).toEqual({ filename: 'cat.jpg' });
    expect(JSON.stringify(transcript.events)).not.toContain(auth);
  });

  it('refuses a body whose SHA-256 is not the token, and records the violation', async () => {
    const { media, transcript, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const other = encryptMedia(Buffer.from('a picture of a dog'), 'image');
    const res = await upload(base, `/mms/image/${token}?auth=${auth}`, other.blob);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'hash_mismatch' });
    const event = transcript.events.at(-1);
    expect(event).toMatchObject({
      event: 'media_upload',
      address: ALICE,
      detail: { error: 'hash_mismatch' },
    });
    expect(event?.violations?.map((v) => v.code)).toEqual(['VIO_MEDIA_UPLOAD_HASH_MISMATCH']);
  });

  it('answers 401 for a missing, unknown or expired auth', async () => {
    const { clock, media, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const noAuth = await upload(base, `/mms/image/${token}`, enc.blob);
    expect([noAuth.status, await noAuth.json()]).toEqual([401, { error: 'auth_missing' }]);
    const unknown = await upload(base, `/mms/image/${token}?auth=forged`, enc.blob);
    expect([unknown.status, await unknown.json()]).toEqual([401, { error: 'auth_invalid' }]);
    clock.advance(3600_000);
    const expired = await upload(base, `/mms/image/${token}?auth=${auth}`, enc.blob);
    expect([expired.status, await expired.json()]).toEqual([401, { error: 'auth_invalid' }]);
    const fresh = media.grant(ALICE).auth;
    expect((await upload(base, `/mms/image/${token}?auth=${fresh}`, enc.blob)).status).toBe(200);
  });

  it('answers 400 for an unknown type, a bad token and a blob of impossible length', async () => {
    const { media, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const tooShort = Buffer.alloc(25);
    const offBlock = Buffer.alloc(27);
    const cases: [string, Buffer, string][] = [
      [`/mms/sticker/${token}`, enc.blob, 'unknown_type'],
      [`/mms/image/${token.slice(1)}`, enc.blob, 'bad_token'],
      [`/mms/image/${token}AA`, enc.blob, 'bad_token'],
      [`/mms/image/${Buffer.from(enc.fileEncSha256).toString('base64')}`, enc.blob, 'bad_token'],
      // 43 characters whose last one carries bits past the 32nd byte.
      [`/mms/image/${token.slice(0, 42)}B`, enc.blob, 'bad_token'],
      [`/mms/image/${uploadToken(encryptMedia(tooShort, 'image').fileEncSha256)}`, tooShort, 'bad_length'],
      [`/mms/image/${uploadToken(encryptMedia(offBlock, 'image').fileEncSha256)}`, offBlock, 'bad_length'],
    ];
    for (const [path, body, error] of cases) {
      const res = await upload(base, `${path}?auth=${auth}`, body);
      expect([path, res.status, await res.json()]).toEqual([path, 400, { error }]);
    }
  });

  it('answers 413 from Content-Length alone, and cuts a streamed body off at the limit', async () => {
    const limit = 64 * 1024;
    const { media, transcript, base } = await mediaServer({ maxBytes: limit });
    const { auth } = media.grant(ALICE);
    const declared = await upload(base, `/mms/image/${token}?auth=${auth}`, Buffer.alloc(limit + 16));
    expect([declared.status, await declared.json()]).toEqual([413, { error: 'too_large' }]);

    // A body with no length, up to 64 MiB, produced only as fast as the client is asked for it.
    const total = 64 * 1024 * 1024;
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await fetch(`${base}/mms/image/${token}?auth=${auth}`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect([res.status, await res.json()]).toEqual([413, { error: 'too_large' }]);
    // Socket buffers let a few MiB through before the connection is gone, never the whole body.
    expect(pulled).toBeLessThan(total / 4);
    expect(transcript.events.filter((e) => e.detail?.error === 'too_large')).toHaveLength(2);
  });

  it('answers 404 for an unknown path and for a blob past retention', async () => {
    const { clock, media, base } = await mediaServer();
    const { auth } = media.grant(ALICE);
    const { direct_path } = (await (
      await upload(base, `/mms/image/${token}?auth=${auth}`, enc.blob)
    ).json()) as {
      direct_path: string;
    };
    const unknown = await fetch(`${base}/v/image/AAAAAAAAAAAAAAAAAAAAAA`);
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'not_found' }]);
    clock.advance(30 * DAY - 1000);
    expect((await fetch(`${base}${direct_path}`)).status).toBe(200);
    clock.advance(1000);
    const gone = await fetch(`${base}${direct_path}`);
    expect([gone.status, await gone.json()]).toEqual([404, { error: 'not_found' }]);
  });
});
