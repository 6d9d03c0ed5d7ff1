import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { StanzaNode } from '../xml/node.ts';
import { el } from '../xml/node.ts';
import type { InvalidFrame } from './ws-link.ts';
import { connectWsLink } from './ws-link.ts';

// The link against a bare ws server, so each test controls exactly what crosses the wire.

interface ServerEnd {
  readonly socket: WebSocket;
  readonly frames: { data: Buffer; isBinary: boolean }[];
  readonly closed: Promise<[number, string]>;
  readonly errors: Error[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rawServer(options: { skipUTF8Validation?: boolean } = {}): Promise<{
  url: string;
  next: () => Promise<ServerEnd>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...options });
  await once(wss, 'listening');
  const ends: ServerEnd[] = [];
  wss.on('connection', (socket) => {
    const frames: ServerEnd['frames'] = [];
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    socket.on('message', (data, isBinary) => frames.push({ data: data as Buffer, isBinary }));
    const closed = new Promise<[number, string]>((resolve) =>
      socket.on('close', (code, reason) => resolve([code, reason.toString()])),
    );
    ends.push({ socket, frames, closed, errors });
  });
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/chat`;
  let taken = 0;
  const next = async () => {
    await waitFor(() => ends.length > taken, 'a connection');
    const end = ends[taken++];
    if (!end) throw new Error('no connection');
    return end;
  };
  return { url, next };
}

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('connectWsLink', () => {
  it('sends stanzas as canonical text frames', async () => {
    const s = await rawServer();
    const link = await connectWsLink(s.url);
    const end = await s.next();
    link.send(el('m', { b: '2', a: '1' }, [el('x', {}, new Uint8Array([1, 2, 3]))]));
    await waitFor(() => end.frames.length === 1, 'the frame');
    expect(end.frames[0]?.isBinary).toBe(false);
    expect(end.frames[0]?.data.toString()).toBe('<m a="1" b="2"><x>AQID</x></m>');
    link.close();
  });

  it('delivers stanzas and reports, then drops, frames that are not stanzas', async () => {
    const s = await rawServer();
    const invalid: InvalidFrame[] = [];
    const link = await connectWsLink(s.url, { onInvalid: (f) => invalid.push(f) });
    const got: StanzaNode[] = [];
    link.onStanza((n) => got.push(n));
    const end = await s.next();
    end.socket.send('<ok/>');
    end.socket.send('<a>');
    end.socket.send(Buffer.from([1, 2]), { binary: true });
    end.socket.send('<ok n="2"/>');
    await waitFor(() => got.length === 2, 'the stanzas');
    expect(got).toEqual([el('ok'), el('ok', { n: '2' })]);
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toMatchObject({ frame: '<a>', isBinary: false });
    expect(invalid[0]?.violation?.code).toMatch(/^VIO_XML_/);
    expect(invalid[1]).toEqual({ frame: Buffer.from([1, 2]), isBinary: true });
    link.close();
  });

  it('stops delivering to a handler once it is removed', async () => {
    const s = await rawServer();
    const link = await connectWsLink(s.url);
    const a: string[] = [];
    const b: string[] = [];
    const off = link.onStanza((n) => a.push(n.tag));
    link.onStanza((n) => b.push(n.tag));
    const end = await s.next();
    end.socket.send('<one/>');
    await waitFor(() => b.length === 1, 'the first stanza');
    off();
    end.socket.send('<two/>');
    await waitFor(() => b.length === 2, 'the second stanza');
    expect(a).toEqual(['one']);
    expect(b).toEqual(['one', 'two']);
    link.close();
  });

  it('closes with 1009 on an inbound frame over its limit, without an unhandled error', async () => {
    const s = await rawServer();
    const closes: [number, string][] = [];
    const link = await connectWsLink(s.url, { maxFrameBytes: 100, onClose: (c, r) => closes.push([c, r]) });
    const end = await s.next();
    end.socket.send('x'.repeat(100));
    end.socket.send('x'.repeat(101));
    expect((await end.closed)[0]).toBe(1009);
    await waitFor(() => link.closeCode !== undefined, 'the link to close');
    expect(link.closeCode).toBe(1009);
    expect(link.closed).toBe(true);
    expect(closes).toEqual([[1009, '']]);
  });

  it('sends its close code and reason, and does nothing after the close', async () => {
    const s = await rawServer();
    const link = await connectWsLink(s.url);
    const end = await s.next();
    link.close(1000, 'bye');
    link.send(el('late'));
    link.rawSend('late');
    expect(link.closed).toBe(true);
    expect(await end.closed).toEqual([1000, 'bye']);
    expect(end.frames).toEqual([]);
    await waitFor(() => link.closeCode !== undefined, 'the close handshake');
    expect(link.closeCode).toBe(1000);
  });

  it('drops the connection without a close frame on terminate()', async () => {
    const s = await rawServer();
    const link = await connectWsLink(s.url);
    const end = await s.next();
    link.terminate();
    expect(await end.closed).toEqual([1006, '']);
    await waitFor(() => link.closeCode !== undefined, 'the link to close');
    expect(link.closeCode).toBe(1006);
  });

  it('sends raw frames as they are, including text that is not UTF-8', async () => {
    const s = await rawServer({ skipUTF8Validation: true });
    const link = await connectWsLink(s.url);
    const end = await s.next();
    link.rawSend(Buffer.from([0x3c, 0xff, 0x3e]));
    link.rawSend('<x/>', true);
    await waitFor(() => end.frames.length === 2, 'the frames');
    expect(end.frames).toEqual([
      { data: Buffer.from([0x3c, 0xff, 0x3e]), isBinary: false },
      { data: Buffer.from('<x/>'), isBinary: true },
    ]);
    link.close();
  });

  it('rejects when nothing listens', async () => {
    const s = await rawServer();
    const port = new URL(s.url).port;
    await cleanups.pop()?.();
    await expect(connectWsLink(`ws://127.0.0.1:${port}/ws/chat`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
