import type { Client } from 'mock-socket';
import { Server } from 'mock-socket';
import { afterEach, describe, expect, it } from 'vitest';
import type { StanzaNode } from '../xml/node.ts';
import { el } from '../xml/node.ts';
import { connectMockLink } from './mock-link.ts';
import type { InvalidFrame } from './ws-link.ts';

// The link against a bare mock-socket server, so each test controls exactly what crosses.

interface ServerEnd {
  readonly socket: Client;
  readonly frames: unknown[];
  readonly events: string[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

let hosts = 0;

function rawServer(): { url: string; next: () => Promise<ServerEnd> } {
  const url = `ws://l${++hosts}.interop.test/ws/chat`;
  const server = new Server(url, { mock: false });
  const ends: ServerEnd[] = [];
  server.on('connection', (socket) => {
    const frames: unknown[] = [];
    const events: string[] = [];
    socket.on('message', (d) => frames.push(d));
    socket.addEventListener('close', (e: Event) => {
      const c = e as unknown as { code: number; reason: string };
      events.push(`close ${c.code} ${c.reason}`);
    });
    socket.addEventListener('error', () => events.push('error'));
    ends.push({ socket, frames, events });
  });
  cleanups.push(() => server.stop());
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

describe('connectMockLink', () => {
  it('sends stanzas as canonical text frames', async () => {
    const s = rawServer();
    const link = await connectMockLink(s.url);
    const end = await s.next();
    link.send(el('m', { b: '2', a: '1' }, [el('x', {}, new Uint8Array([1, 2, 3]))]));
    await waitFor(() => end.frames.length === 1, 'the frame');
    expect(end.frames).toEqual(['<m a="1" b="2"><x>AQID</x></m>']);
  });

  it('delivers stanzas and reports, then drops, frames that are not stanzas', async () => {
    const s = rawServer();
    const invalid: InvalidFrame[] = [];
    const link = await connectMockLink(s.url, { onInvalid: (f) => invalid.push(f) });
    const got: StanzaNode[] = [];
    link.onStanza((n) => got.push(n));
    const end = await s.next();
    end.socket.send('<ok/>');
    end.socket.send('<a>');
    end.socket.send(new Uint8Array([1, 2]).buffer);
    end.socket.send('<ok n="2"/>');
    await waitFor(() => got.length === 2, 'the stanzas');
    expect(got).toEqual([el('ok'), el('ok', { n: '2' })]);
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toMatchObject({ frame: '<a>', isBinary: false });
    expect(invalid[0]?.violation?.code).toMatch(/^VIO_XML_/);
    expect(invalid[1]).toEqual({ frame: Buffer.from([1, 2]), isBinary: true });
  });

  it('sends binary frames as a copy taken at the call', async () => {
    const s = rawServer();
    const link = await connectMockLink(s.url);
    const end = await s.next();
    const bytes = Buffer.from([1, 2, 3]);
    link.rawSend(bytes, true);
    bytes[0] = 9;
    link.rawSend('<x/>', true);
    await waitFor(() => end.frames.length === 2, 'the frames');
    expect(end.frames.map((f) => Buffer.from(new Uint8Array(f as ArrayBuffer)))).toEqual([
      Buffer.from([1, 2, 3]),
      Buffer.from('<x/>'),
    ]);
  });

  it('sends its close code and reason, and does nothing after the close', async () => {
    const s = rawServer();
    const closes: [number, string][] = [];
    const link = await connectMockLink(s.url, { onClose: (c, r) => closes.push([c, r]) });
    const end = await s.next();
    link.close(4000, 'bye');
    link.send(el('late'));
    link.rawSend('late');
    expect(link.closed).toBe(true);
    await waitFor(() => link.closeCode !== undefined, 'the close');
    await new Promise((r) => setTimeout(r, 10));
    expect(end.events).toEqual(['close 4000 bye']);
    expect(end.frames).toEqual([]);
    expect(closes).toEqual([[4000, 'bye']]);
  });

  it('reports a dropped connection to both ends on terminate()', async () => {
    const s = rawServer();
    const closes: number[] = [];
    const link = await connectMockLink(s.url, { onClose: (c) => closes.push(c) });
    const end = await s.next();
    link.terminate();
    link.terminate();
    expect(end.events).toEqual(['error', 'close 1006 ']);
    expect(link.closeCode).toBe(1006);
    expect(closes).toEqual([1006]);
    expect(end.socket.readyState).toBe(3);
  });

  it('rejects when nothing listens at the URL', async () => {
    await expect(connectMockLink('ws://nobody.interop.test/ws/chat')).rejects.toThrow(/failed/);
  });
});
