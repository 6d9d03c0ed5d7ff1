// The in-process transport: mock-socket's server at a made-up URL, for fast unit tests of
// everything above the transport. Not for scenarios against a candidate: mock-socket has no
// real framing, no backpressure and no payload limit, so the frame limit is emulated here (close
// 1009, as ws does) and the rest is simply absent.

import type { Client } from 'mock-socket';
import { Server } from 'mock-socket';
import {
  assertCloseCode,
  ChannelEvents,
  DEFAULT_MAX_FRAME_BYTES,
  failChannel,
  TRANSPORT_REASONS,
  truncateReason,
} from './transport-ws.ts';
import type { ChannelAcceptor, FrameChannel } from './types.ts';

export interface MemoryAcceptorOptions {
  /** Largest inbound frame; a larger one closes the connection with 1009. */
  readonly maxFrameBytes?: number;
  /** A channel handler threw: the channel is already closed with 1011. Without this, rethrown. */
  readonly onError?: (error: unknown, channel: string) => void;
}

export interface MemoryAcceptor extends ChannelAcceptor {
  /** Closes every connection with 1001 and frees the URL for another acceptor. */
  close(): void;
  readonly connections: number;
}

const OPEN = 1;

interface CloseEventLike {
  readonly code?: number;
  readonly reason?: string;
}

type Outgoing = { readonly text: string } | { readonly code: number; readonly reason: string };

// mock-socket hands the server whatever the client passed to send().
function toFrame(data: unknown): { bytes: Buffer; isBinary: boolean } {
  if (typeof data === 'string') return { bytes: Buffer.from(data, 'utf8'), isBinary: false };
  if (data instanceof ArrayBuffer) return { bytes: Buffer.from(new Uint8Array(data)), isBinary: true };
  if (ArrayBuffer.isView(data)) {
    return {
      bytes: Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
      isBinary: true,
    };
  }
  // What mock-socket itself would turn it into.
  return { bytes: Buffer.from(String(data), 'utf8'), isBinary: false };
}

/**
 * Listens at `url` (for example `ws://interop.test/ws/chat`); clients connect with mock-socket's
 * WebSocket (harness/peers/mock-link.ts). The global WebSocket is left alone.
 */
export function createMemoryAcceptor(url: string, opts: MemoryAcceptorOptions = {}): MemoryAcceptor {
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const server = new Server(url, { mock: false });
  const live = new Set<string>();
  let handler: ((channel: FrameChannel) => void) | undefined;
  let seq = 0;

  server.on('connection', (socket: Client) => {
    const id = `c${++seq}`;
    live.add(id);
    let channel: FrameChannel | undefined;
    const events = new ChannelEvents((error) => {
      if (channel) failChannel(channel, opts.onError, error);
    });

    // mock-socket delivers server sends synchronously, inside the sender's call; a real socket
    // never does. Sends and the close go through one queue, so they keep their order and a
    // close never overtakes the frames before it.
    const outbox: Outgoing[] = [];
    let flushing = false;
    const flush = () => {
      flushing = false;
      for (let o = outbox.shift(); o; o = outbox.shift()) {
        if (socket.readyState !== OPEN) return;
        if ('text' in o) socket.send(o.text);
        else socket.close({ code: o.code, reason: o.reason, wasClean: true });
      }
    };
    const post = (o: Outgoing) => {
      outbox.push(o);
      if (flushing) return;
      flushing = true;
      queueMicrotask(flush);
    };
    const close = (code: number, reason: string, sent = truncateReason(reason)) => {
      assertCloseCode(code);
      if (!events.initiate(code, reason)) return;
      post({ code, reason: sent });
    };

    channel = {
      id,
      remoteAddress: 'memory',
      send(text) {
        if (events.closing || socket.readyState !== OPEN) return;
        post({ text });
      },
      close: (code, reason) => close(code, reason),
      onFrame: (h) => events.onFrame(h),
      onClose: (h) => events.onClose(h),
    };

    socket.on('message', (data) => {
      const { bytes, isBinary } = toFrame(data);
      // As ws does: no reason on the wire, the frame never delivered.
      if (bytes.byteLength > maxFrameBytes) return close(1009, TRANSPORT_REASONS.tooLarge, '');
      events.frame(bytes, isBinary);
    });
    const ended = (code: number, reason: string) => {
      live.delete(id);
      outbox.length = 0;
      events.ended(code, reason);
    };
    socket.addEventListener('close', (event: Event) => {
      const e = event as unknown as CloseEventLike;
      ended(e.code ?? 1005, e.reason ?? '');
    });
    // mock-socket's form of a connection that dropped without a close frame.
    socket.addEventListener('error', () => ended(1006, ''));

    try {
      handler?.(channel);
      if (!handler) close(1011, 'the server is not ready');
    } catch (error) {
      failChannel(channel, opts.onError, error);
    }
  });

  return {
    onChannel(h) {
      handler = h;
    },
    get connections() {
      return live.size;
    },
    close() {
      // Closes every client at once (their close events run now) and frees the URL.
      server.close({ code: 1001, reason: TRANSPORT_REASONS.shuttingDown, wasClean: true });
      server.stop();
    },
  };
}
