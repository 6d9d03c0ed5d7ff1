import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RawLink } from '../peers/ws-link.ts';
import { connectWsLink } from '../peers/ws-link.ts';
import type { StanzaNode } from '../xml/node.ts';
import { el } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import type { UpgradeRejection, WsAcceptor, WsAcceptorOptions } from './transport-ws.ts';
import { attachWebSocket, DEFAULT_MAX_FRAME_BYTES, truncateReason } from './transport-ws.ts';
import type { FrameChannel } from './types.ts';

// An echo server built here (the stanza core is not part of this test). Text frames come back
// as they are, with a few commands: <close code reason/>, <flood n/> (frames on every turn of
// the event loop until the channel closes), <burst n size/> (frames in one synchronous loop).
// A binary frame is answered with <bin n/>, a large text frame with <big n/>.

interface Seen {
  readonly channel: FrameChannel;
  readonly frames: { bytes: Buffer; isBinary: boolean }[];
  readonly closed: Promise<{ code: number; reason: string }>;
}

function echo(channel: FrameChannel): Seen {
  const frames: Seen['frames'] = [];
  let ended = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    channel.onClose((code, reason) => {
      ended = true;
      resolve({ code, reason });
    });
  });
  channel.onFrame((bytes, isBinary) => {
    frames.push({ bytes, isBinary });
    if (isBinary) return channel.send(`<bin n="${bytes.length}"/>`);
    if (bytes.length > 64 * 1024) return channel.send(`<big n="${bytes.length}"/>`);
    const parsed = parseStanza(bytes);
    const node = parsed.ok ? parsed.node : undefined;
    if (node?.tag === 'close') {
      channel.send('<bye/>');
      return channel.close(Number(node.attrs.code), node.attrs.reason ?? '');
    }
    if (node?.tag === 'flood') {
      let left = Number(node.attrs.n);
      const turn = () => {
        for (let i = 0; i < 50 && left > 0 && !ended; i++, left--) channel.send(`<f n="${left}"/>`);
        if (left > 0 && !ended) setImmediate(turn);
      };
      return turn();
    }
    if (node?.tag === 'burst') {
      const frame = `<b x="${'x'.repeat(Number(node.attrs.size))}"/>`;
      for (let i = 0; i < Number(node.attrs.n); i++) channel.send(frame);
      return;
    }
    channel.send(bytes.toString('utf8'));
  });
  return { channel, frames, closed };
}

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Started {
  readonly http: Server;
  readonly acceptor: WsAcceptor;
  readonly seen: Seen[];
  readonly rejections: UpgradeRejection[];
  readonly errors: unknown[];
  readonly port: number;
  readonly url: string;
}

async function start(
  opts: WsAcceptorOptions = {},
  onChannel: ((c: FrameChannel, seen: Seen[]) => void) | null = (c, seen) => {
    seen.push(echo(c));
  },
): Promise<Started> {
  const http = createServer((_req, res) => res.writeHead(418).end());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const rejections: UpgradeRejection[] = [];
  const errors: unknown[] = [];
  const acceptor = attachWebSocket(http, {
    onReject: (r) => rejections.push(r),
    onError: (e) => errors.push(e),
    ...opts,
  });
  const seen: Seen[] = [];
  if (onChannel) acceptor.onChannel((c) => onChannel(c, seen));
  cleanups.push(async () => {
    await acceptor.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  const port = (http.address() as AddressInfo).port;
  return { http, acceptor, seen, rejections, errors, port, url: `ws://127.0.0.1:${port}/ws/chat` };
}

async function client(url: string): Promise<{ link: RawLink; got: StanzaNode[] }> {
  const link = await connectWsLink(url);
  cleanups.push(async () => link.terminate());
  const got: StanzaNode[] = [];
  link.onStanza((n) => got.push(n));
  return { link, got };
}

async function closedLink(link: RawLink): Promise<void> {
  await waitFor(() => link.closeCode !== undefined, 'the link to close');
}

function rawUpgrade(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe('attachWebSocket', () => {
  it('round-trips text frames in order and names channels c1, c2, ... with the peer address', async () => {
    const s = await start();
    const a = await client(s.url);
    const b = await client(s.url);
    for (let i = 0; i < 5; i++) a.link.send(el('ping', { id: `a${i}` }));
    b.link.send(el('ping', { id: 'b0' }));
    await waitFor(() => a.got.length === 5 && b.got.length === 1, 'the echoes');
    expect(a.got.map((n) => n.attrs.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(s.seen.map((x) => x.channel.id)).toEqual(['c1', 'c2']);
    expect(s.seen[0]?.channel.remoteAddress).toBe('127.0.0.1');
    expect(s.seen[0]?.frames.map((f) => f.bytes.toString())).toEqual(
      [0, 1, 2, 3, 4].map((i) => `<ping id="a${i}"/>`),
    );
    expect(s.seen[0]?.frames.every((f) => !f.isBinary)).toBe(true);
    expect(s.acceptor.connections).toBe(2);
  });

  it('delivers a binary frame as binary', async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.rawSend(Buffer.from([0, 1, 2, 255]), true);
    await waitFor(() => a.got.length === 1, 'the answer');
    expect(s.seen[0]?.frames).toEqual([{ bytes: Buffer.from([0, 1, 2, 255]), isBinary: true }]);
    expect(a.got[0]).toEqual(el('bin', { n: 4 }));
  });

  it('delivers a frame of exactly the cap', async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.rawSend('a'.repeat(DEFAULT_MAX_FRAME_BYTES));
    await waitFor(() => a.got.length === 1, 'the answer');
    expect(a.got[0]).toEqual(el('big', { n: DEFAULT_MAX_FRAME_BYTES }));
  });

  it('cuts a frame over the cap with 1009 and goes on serving other clients', async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.send(el('ping', { id: '1' }));
    a.link.rawSend('a'.repeat(DEFAULT_MAX_FRAME_BYTES + 1));
    await closedLink(a.link);
    expect(a.link.closeCode).toBe(1009);
    expect(await s.seen[0]?.closed).toEqual({ code: 1009, reason: 'frame too large' });
    expect(s.seen[0]?.frames).toHaveLength(1);
    expect(s.acceptor.connections).toBe(0);

    const b = await client(s.url);
    b.link.send(el('ping', { id: '2' }));
    await waitFor(() => b.got.length === 1, 'the second client echo');
    expect(b.got[0]).toEqual(el('ping', { id: '2' }));
  });

  it('honours a smaller frame limit', async () => {
    const s = await start({ maxFrameBytes: 100 });
    const a = await client(s.url);
    a.link.rawSend('x'.repeat(100));
    a.link.rawSend('x'.repeat(101));
    await closedLink(a.link);
    expect(a.link.closeCode).toBe(1009);
    expect(s.seen[0]?.frames.map((f) => f.bytes.length)).toEqual([100]);
  });

  it("carries the server's close code and reason to the client, after the frames sent before it", async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.send(el('close', { code: 1008, reason: 'policy' }));
    await closedLink(a.link);
    expect(a.got.map((n) => n.tag)).toEqual(['bye']);
    expect([a.link.closeCode, a.link.closeReason]).toEqual([1008, 'policy']);
    expect(await s.seen[0]?.closed).toEqual({ code: 1008, reason: 'policy' });
  });

  it('cuts a long close reason to 123 bytes without splitting a character', async () => {
    const s = await start();
    const a = await client(s.url);
    const reason = 'é'.repeat(100);
    a.link.send(el('close', { code: 1000, reason }));
    await closedLink(a.link);
    expect(a.link.closeReason).toBe('é'.repeat(61));
    expect(truncateReason(`a${'é'.repeat(100)}`)).toBe(`a${'é'.repeat(61)}`);
  });

  it("carries the client's close code to the server (1005 when it gives none)", async () => {
    const s = await start();
    const a = await client(s.url);
    const b = await client(s.url);
    a.link.close(1000, 'bye');
    b.link.close();
    expect(await s.seen[0]?.closed).toEqual({ code: 1000, reason: 'bye' });
    expect(await s.seen[1]?.closed).toEqual({ code: 1005, reason: '' });
  });

  it('keeps 1,000 pipelined frames in order both ways', async () => {
    const s = await start();
    const a = await client(s.url);
    for (let i = 0; i < 1000; i++) a.link.send(el('m', { i }));
    await waitFor(() => a.got.length === 1000, 'a thousand echoes');
    const want = Array.from({ length: 1000 }, (_, i) => String(i));
    expect(a.got.map((n) => n.attrs.i)).toEqual(want);
    expect(s.seen[0]?.frames.map((f) => f.bytes.toString())).toEqual(want.map((i) => `<m i="${i}"/>`));
  });

  it('reports a client that vanishes mid-stream as 1006, and sends to it do nothing', async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.send(el('flood', { n: 1_000_000 }));
    await waitFor(() => a.got.length >= 20, 'the flood to start');
    a.link.terminate();
    expect(await s.seen[0]?.closed).toEqual({ code: 1006, reason: '' });
    expect(s.acceptor.connections).toBe(0);
    expect(() => s.seen[0]?.channel.send('<late/>')).not.toThrow();

    const b = await client(s.url);
    b.link.send(el('ping', { id: 'after' }));
    await waitFor(() => b.got.length === 1, 'the next client echo');
  });

  it('refuses upgrades on any other path with 404', async () => {
    const s = await start();
    await expect(connectWsLink(`ws://127.0.0.1:${s.port}/ws/other`)).rejects.toThrow(/404/);
    await expect(connectWsLink(`ws://127.0.0.1:${s.port}/ws/chat/`)).rejects.toThrow(/404/);
    expect(s.rejections.map((r) => [r.reason, r.status, r.path])).toEqual([
      ['wrong_path', 404, '/ws/other'],
      ['wrong_path', 404, '/ws/chat/'],
    ]);
    expect(s.acceptor.connections).toBe(0);
  });

  it('answers a broken handshake with 400', async () => {
    const s = await start();
    const answer = await rawUpgrade(
      s.port,
      'GET /ws/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(s.rejections.map((r) => r.reason)).toEqual(['bad_handshake']);
  });

  it('refuses upgrades with 503 until a channel handler is registered', async () => {
    const s = await start({}, null);
    await expect(connectWsLink(s.url)).rejects.toThrow(/503/);
    expect(s.rejections.map((r) => r.reason)).toEqual(['not_ready']);
  });

  it('hands an invalid UTF-8 text frame to the handler, then closes with 1007', async () => {
    const s = await start();
    const a = await client(s.url);
    a.link.rawSend(Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]));
    await closedLink(a.link);
    expect(a.link.closeCode).toBe(1007);
    expect(s.seen[0]?.frames).toEqual([
      { bytes: Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]), isBinary: false },
    ]);
    expect(await s.seen[0]?.closed).toEqual({ code: 1007, reason: 'invalid UTF-8' });
  });

  it('closes a slow consumer with 1008 once too much is queued', async () => {
    const s = await start({ maxBufferedBytes: 1024 * 1024 });
    const raw = new WebSocket(s.url, { perMessageDeflate: false });
    cleanups.push(async () => raw.terminate());
    let frames = 0;
    raw.on('message', () => frames++);
    const closed = new Promise<[number, string]>((resolve) =>
      raw.on('close', (code, reason) => resolve([code, reason.toString()])),
    );
    await new Promise((resolve) => raw.on('open', resolve));
    // 32 MiB in one synchronous loop: more than the kernel's socket buffers can take.
    raw.send('<burst n="64" size="524288"/>');
    expect(await closed).toEqual([1008, 'slow consumer']);
    expect(await s.seen[0]?.closed).toEqual({ code: 1008, reason: 'slow consumer' });
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(64);
  }, 5000);

  it('holds frames and the close until handlers are registered late', async () => {
    const got: string[] = [];
    let closedWith: number | undefined;
    const s = await start({}, (c) => {
      setTimeout(() => c.onFrame((d) => got.push(d.toString())), 50);
      setTimeout(() => c.onClose((code) => (closedWith = code)), 80);
    });
    const a = await client(s.url);
    for (let i = 0; i < 3; i++) a.link.send(el('early', { i }));
    a.link.close(1000);
    await waitFor(() => closedWith !== undefined, 'the late close report');
    expect(got).toEqual(['<early i="0"/>', '<early i="1"/>', '<early i="2"/>']);
    expect(closedWith).toBe(1000);
  });

  it('closes with 1011 when a handler throws and hands the error to onError', async () => {
    const s = await start({}, (c) =>
      c.onFrame(() => {
        throw new Error('core bug');
      }),
    );
    const a = await client(s.url);
    a.link.send(el('ping'));
    await closedLink(a.link);
    expect(a.link.closeCode).toBe(1011);
    expect(s.errors).toEqual([new Error('core bug')]);
  });

  it('rejects close codes an endpoint may not send', async () => {
    let channel: FrameChannel | undefined;
    const s = await start({}, (c) => {
      channel = c;
    });
    await client(s.url);
    await waitFor(() => channel !== undefined, 'the channel');
    expect(() => channel?.close(1006, 'no')).toThrow(RangeError);
    expect(() => channel?.close(999, 'no')).toThrow(RangeError);
  });

  it('closes every connection with 1001 on close() and stops upgrading', async () => {
    const s = await start();
    const a = await client(s.url);
    const b = await client(s.url);
    await s.acceptor.close();
    await closedLink(a.link);
    await closedLink(b.link);
    expect([a.link.closeCode, a.link.closeReason]).toEqual([1001, 'server shutting down']);
    expect(b.link.closeCode).toBe(1001);
    expect(s.acceptor.connections).toBe(0);
    await expect(connectWsLink(s.url)).rejects.toThrow();
  });
});
