import { afterEach, describe, expect, it } from 'vitest';
import { connectMockLink } from '../peers/mock-link.ts';
import type { RawLink } from '../peers/ws-link.ts';
import type { StanzaNode } from '../xml/node.ts';
import { el } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import type { MemoryAcceptor, MemoryAcceptorOptions } from './transport-memory.ts';
import { createMemoryAcceptor } from './transport-memory.ts';
import { DEFAULT_MAX_FRAME_BYTES } from './transport-ws.ts';
import type { FrameChannel } from './types.ts';

// The same echo server as the ws transport's test: text comes back as it is, with the commands
// <close code reason/> and <flood n/>; a binary frame is answered with <bin n/>, a large text
// frame with <big n/>.

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

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

let hosts = 0;

function start(
  opts: MemoryAcceptorOptions = {},
  onChannel: (c: FrameChannel, seen: Seen[]) => void = (c, seen) => {
    seen.push(echo(c));
  },
  url = `ws://t${++hosts}.interop.test/ws/chat`,
): { acceptor: MemoryAcceptor; seen: Seen[]; url: string } {
  const acceptor = createMemoryAcceptor(url, opts);
  const seen: Seen[] = [];
  acceptor.onChannel((c) => onChannel(c, seen));
  cleanups.push(() => acceptor.close());
  return { acceptor, seen, url };
}

async function client(url: string): Promise<{ link: RawLink; got: StanzaNode[] }> {
  const link = await connectMockLink(url);
  const got: StanzaNode[] = [];
  link.onStanza((n) => got.push(n));
  return { link, got };
}

async function closedLink(link: RawLink): Promise<void> {
  await waitFor(() => link.closeCode !== undefined, 'the link to close');
}

describe('createMemoryAcceptor', () => {
  it('round-trips text frames in order and names channels c1, c2, ...', async () => {
    const s = start();
    const a = await client(s.url);
    const b = await client(s.url);
    for (let i = 0; i < 5; i++) a.link.send(el('ping', { id: `a${i}` }));
    b.link.send(el('ping', { id: 'b0' }));
    await waitFor(() => a.got.length === 5 && b.got.length === 1, 'the echoes');
    expect(a.got.map((n) => n.attrs.id)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(s.seen.map((x) => x.channel.id)).toEqual(['c1', 'c2']);
    expect(s.seen[0]?.channel.remoteAddress).toBe('memory');
    expect(s.seen[0]?.frames.every((f) => !f.isBinary)).toBe(true);
    expect(s.acceptor.connections).toBe(2);
  });

  it('leaves the global WebSocket alone', () => {
    const before = (globalThis as { WebSocket?: unknown }).WebSocket;
    start();
    expect((globalThis as { WebSocket?: unknown }).WebSocket).toBe(before);
  });

  it('never delivers a server send inside the call that made it', async () => {
    let heardDuringSend: number | undefined;
    let heard = 0;
    const s = start({}, (c) =>
      c.onFrame(() => {
        c.send('<a/>');
        heardDuringSend = heard;
      }),
    );
    const a = await client(s.url);
    a.link.onStanza(() => heard++);
    a.link.send(el('go'));
    await waitFor(() => heard === 1, 'the answer');
    expect(heardDuringSend).toBe(0);
  });

  it('delivers a binary frame as binary', async () => {
    const s = start();
    const a = await client(s.url);
    a.link.rawSend(Buffer.from([0, 1, 2, 255]), true);
    await waitFor(() => a.got.length === 1, 'the answer');
    expect(s.seen[0]?.frames).toEqual([{ bytes: Buffer.from([0, 1, 2, 255]), isBinary: true }]);
    expect(a.got[0]).toEqual(el('bin', { n: 4 }));
  });

  it('delivers a frame of exactly the cap, counting UTF-8 bytes', async () => {
    const s = start();
    const a = await client(s.url);
    a.link.rawSend('é'.repeat(DEFAULT_MAX_FRAME_BYTES / 2));
    await waitFor(() => a.got.length === 1, 'the answer');
    expect(a.got[0]).toEqual(el('big', { n: DEFAULT_MAX_FRAME_BYTES }));
  });

  it('closes on a frame over the cap with 1009, as ws does, and goes on serving other clients', async () => {
    const s = start();
    const a = await client(s.url);
    a.link.send(el('ping', { id: '1' }));
    a.link.rawSend(`${'é'.repeat(DEFAULT_MAX_FRAME_BYTES / 2)}x`);
    a.link.send(el('ping', { id: 'too late' }));
    await closedLink(a.link);
    expect([a.link.closeCode, a.link.closeReason]).toEqual([1009, '']);
    expect(await s.seen[0]?.closed).toEqual({ code: 1009, reason: 'frame too large' });
    expect(s.seen[0]?.frames).toHaveLength(1);
    expect(s.acceptor.connections).toBe(0);

    const b = await client(s.url);
    b.link.send(el('ping', { id: '2' }));
    await waitFor(() => b.got.length === 1, 'the second client echo');
    expect(b.got[0]).toEqual(el('ping', { id: '2' }));
  });

  it("carries the server's close code and reason to the client, after the frames sent before it", async () => {
    const s = start();
    const a = await client(s.url);
    a.link.send(el('close', { code: 1008, reason: 'policy' }));
    await closedLink(a.link);
    expect(a.got.map((n) => n.tag)).toEqual(['bye']);
    expect([a.link.closeCode, a.link.closeReason]).toEqual([1008, 'policy']);
    expect(await s.seen[0]?.closed).toEqual({ code: 1008, reason: 'policy' });
  });

  it('cuts a long close reason to 123 bytes', async () => {
    const s = start();
    const a = await client(s.url);
    a.link.send(el('close', { code: 1000, reason: 'é'.repeat(100) }));
    await closedLink(a.link);
    expect(a.link.closeReason).toBe('é'.repeat(61));
  });

  it("carries the client's close code to the server", async () => {
    const s = start();
    const a = await client(s.url);
    const b = await client(s.url);
    a.link.close(1000, 'bye');
    b.link.close(4000, 'app');
    expect(await s.seen[0]?.closed).toEqual({ code: 1000, reason: 'bye' });
    expect(await s.seen[1]?.closed).toEqual({ code: 4000, reason: 'app' });
  });

  it('keeps 1,000 frames in order both ways', async () => {
    const s = start();
    const a = await client(s.url);
    for (let i = 0; i < 1000; i++) a.link.send(el('m', { i }));
    await waitFor(() => a.got.length === 1000, 'a thousand echoes');
    const want = Array.from({ length: 1000 }, (_, i) => String(i));
    expect(a.got.map((n) => n.attrs.i)).toEqual(want);
    expect(s.seen[0]?.frames.map((f) => f.bytes.toString())).toEqual(want.map((i) => `<m i="${i}"/>`));
  });

  it('reports a client that vanishes mid-stream as 1006, and sends to it do nothing', async () => {
    const s = start();
    const a = await client(s.url);
    a.link.send(el('flood', { n: 1_000_000 }));
    await waitFor(() => a.got.length >= 20, 'the flood to start');
    a.link.terminate();
    const count = a.got.length;
    expect(await s.seen[0]?.closed).toEqual({ code: 1006, reason: '' });
    expect(a.link.closeCode).toBe(1006);
    expect(s.acceptor.connections).toBe(0);
    expect(() => s.seen[0]?.channel.send('<late/>')).not.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(a.got.length).toBe(count);

    const b = await client(s.url);
    b.link.send(el('ping', { id: 'after' }));
    await waitFor(() => b.got.length === 1, 'the next client echo');
  });

  it('is not reachable at any other URL', async () => {
    const s = start();
    await expect(connectMockLink(s.url.replace('/ws/chat', '/ws/other'))).rejects.toThrow(/failed/);
    expect(s.acceptor.connections).toBe(0);
  });

  it('closes every connection with 1001 on close() and frees the URL', async () => {
    const s = start();
    const a = await client(s.url);
    const b = await client(s.url);
    s.acceptor.close();
    expect([a.link.closeCode, a.link.closeReason]).toEqual([1001, 'server shutting down']);
    expect(b.link.closeCode).toBe(1001);
    expect(await s.seen[0]?.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(s.acceptor.connections).toBe(0);
    await expect(connectMockLink(s.url)).rejects.toThrow();

    const again = start({}, undefined, s.url);
    const c = await client(again.url);
    c.link.send(el('ping'));
    await waitFor(() => c.got.length === 1, 'the echo from the new acceptor');
  });

  it('holds frames and the close until handlers are registered late', async () => {
    const got: string[] = [];
    let closedWith: number | undefined;
    const s = start({}, (c) => {
      setTimeout(() => c.onFrame((d) => got.push(d.toString())), 30);
      setTimeout(() => c.onClose((code) => (closedWith = code)), 50);
    });
    const a = await client(s.url);
    for (let i = 0; i < 3; i++) a.link.send(el('early', { i }));
    a.link.close(1000);
    await waitFor(() => closedWith !== undefined, 'the late close report');
    expect(got).toEqual(['<early i="0"/>', '<early i="1"/>', '<early i="2"/>']);
    expect(closedWith).toBe(1000);
  });

  it('closes with 1011 when a handler throws and hands the error to onError', async () => {
    const errors: unknown[] = [];
    const s = start({ onError: (e) => errors.push(e) }, (c) =>
      c.onFrame(() => {
        throw new Error('core bug');
      }),
    );
    const a = await client(s.url);
    a.link.send(el('ping'));
    await closedLink(a.link);
    expect(a.link.closeCode).toBe(1011);
    expect(errors).toEqual([new Error('core bug')]);
  });
});
