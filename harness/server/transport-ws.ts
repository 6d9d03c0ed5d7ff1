// The real transport: WebSocket connections on the HTTP server's port (PROFILE.md §2).
//
// Everything a hostile client can do at the socket level ends here as a close with a code,
// reported through the channel's `onClose`; nothing reaches the process as an unhandled error.
// The stanza core sees frames and closes only.

import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData } from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChannelAcceptor, FrameChannel } from './types.ts';

/** PROFILE.md §2.1. */
export const CHAT_PATH = '/ws/chat';
/** The transport cap of PROFILE.md §9.1: a larger frame is cut with close 1009. */
export const DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024;
/** Outbound bytes one connection may have queued before it counts as a slow consumer. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** RFC 6455 §5.5: a close frame's payload is at most 125 bytes, two of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** The local reasons of the closes the transport itself makes (the client sees its own). */
export const TRANSPORT_REASONS = {
  tooLarge: 'frame too large',
  invalidUtf8: 'invalid UTF-8',
  slowConsumer: 'slow consumer',
  shuttingDown: 'server shutting down',
  internal: 'internal error',
} as const;

type FrameHandler = (data: Buffer, isBinary: boolean) => void;
type CloseHandler = (code: number, reason: string) => void;

interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/**
 * The handler side of a channel, shared by both transports: frames that arrive before the
 * first frame handler is registered are held (the core may register after an await), the close
 * is reported once and after every frame, and a handler that throws goes to `fail` instead of
 * unwinding into the socket library.
 */
export class ChannelEvents {
  readonly #frameHandlers: FrameHandler[] = [];
  readonly #closeHandlers: CloseHandler[] = [];
  readonly #held: { data: Buffer; isBinary: boolean }[] = [];
  readonly #fail: (error: unknown) => void;
  #initiated: CloseInfo | undefined;
  #ended: CloseInfo | undefined;
  #reported = false;
  #scheduled = false;

  constructor(fail: (error: unknown) => void) {
    this.#fail = fail;
  }

  /** True once either side started closing: later frames are dropped, sends do nothing. */
  get closing(): boolean {
    return this.#initiated !== undefined || this.#ended !== undefined;
  }

  /** Records a close this side starts. False when one already started: then do nothing. */
  initiate(code: number, reason: string): boolean {
    if (this.closing) return false;
    this.#initiated = { code, reason };
    return true;
  }

  frame(data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    if (this.#frameHandlers.length > 0 && this.#held.length === 0 && !this.#scheduled) {
      this.#deliver(data, isBinary);
      return;
    }
    this.#held.push({ data, isBinary });
    this.#schedule();
  }

  /**
   * The connection is gone. What is reported is the close this side started, if it started
   * one (the code it sent, whatever came back), else what the transport saw from the client.
   */
  ended(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = this.#initiated ?? { code, reason };
    if (this.#held.length === 0 && !this.#scheduled) this.#pump();
    else this.#schedule();
  }

  onFrame(handler: FrameHandler): void {
    this.#frameHandlers.push(handler);
    if (this.#held.length > 0) this.#schedule();
  }

  onClose(handler: CloseHandler): void {
    const ended = this.#ended;
    if (this.#reported && ended) {
      queueMicrotask(() => this.#call(() => handler(ended.code, ended.reason)));
      return;
    }
    this.#closeHandlers.push(handler);
    if (ended) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    this.#scheduled = false;
    if (this.#frameHandlers.length > 0) {
      for (let f = this.#held.shift(); f; f = this.#held.shift()) this.#deliver(f.data, f.isBinary);
    }
    const ended = this.#ended;
    if (!ended || this.#reported || this.#closeHandlers.length === 0) return;
    // Frames still held here had no frame handler to go to, and never will.
    this.#held.length = 0;
    this.#reported = true;
    for (const h of this.#closeHandlers) this.#call(() => h(ended.code, ended.reason));
  }

  #deliver(data: Buffer, isBinary: boolean): void {
    // Every frame comes through here: no closure per frame and handler.
    for (const h of this.#frameHandlers) {
      try {
        h(data, isBinary);
      } catch (error) {
        this.#fail(error);
      }
    }
  }

  #call(f: () => void): void {
    try {
      f();
    } catch (error) {
      this.#fail(error);
    }
  }
}

/** RFC 6455 §7.4: the codes an endpoint may send in a close frame. */
export function isSendableCloseCode(code: number): boolean {
  return (
    (Number.isInteger(code) &&
      code >= 1000 &&
      code <= 1014 &&
      code !== 1004 &&
      code !== 1005 &&
      code !== 1006) ||
    (Number.isInteger(code) && code >= 3000 && code <= 4999)
  );
}

/** Cuts a close reason to `max` UTF-8 bytes without splitting a character. */
export function truncateReason(reason: string, max = MAX_CLOSE_REASON_BYTES): string {
  if (Buffer.byteLength(reason) <= max) return reason;
  let bytes = 0;
  let out = '';
  for (const ch of reason) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    bytes += n;
    out += ch;
  }
  return out;
}

export function assertCloseCode(code: number): void {
  if (!isSendableCloseCode(code)) throw new RangeError(`${code} is not a close code an endpoint may send`);
}

/** Turns a handler's exception into close 1011, then hands it on (or rethrows it, unhandled). */
export function failChannel(
  channel: FrameChannel,
  onError: ((error: unknown, channel: string) => void) | undefined,
  error: unknown,
): void {
  channel.close(1011, TRANSPORT_REASONS.internal);
  if (onError) onError(error, channel.id);
  // Without a handler the error must stay visible: thrown outside the socket library's stack.
  else
    queueMicrotask(() => {
      throw error;
    });
}

// ---- the ws acceptor ---------------------------------------------------------------------------

export type RejectReason = 'wrong_path' | 'bad_handshake' | 'not_ready' | 'closing';

export interface UpgradeRejection {
  readonly reason: RejectReason;
  /** The request target as sent (cut to 256 characters). */
  readonly path: string;
  readonly remoteAddress: string;
  readonly status: number;
  readonly detail: string;
}

export interface WsAcceptorOptions {
  /** The one path that upgrades; every other path gets 404. */
  readonly path?: string;
  /** Largest inbound frame; ws cuts a larger one with close 1009 before buffering it. */
  readonly maxFrameBytes?: number;
  /** Outbound bytes a connection may have queued before it is closed with 1008. */
  readonly maxBufferedBytes?: number;
  /** How long `close()` waits for closing handshakes before dropping the sockets left. */
  readonly closeGraceMs?: number;
  readonly onReject?: (rejection: UpgradeRejection) => void;
  /** A channel handler threw: the channel is already closed with 1011. Without this, rethrown. */
  readonly onError?: (error: unknown, channel: string) => void;
}

export interface WsAcceptor extends ChannelAcceptor {
  /** Closes every connection with 1001 and stops upgrading. */
  close(): Promise<void>;
  /** Open connections. */
  readonly connections: number;
}

interface Live {
  readonly socket: WebSocket;
  readonly channel: FrameChannel;
  readonly gone: Promise<void>;
}

// The code ws closed with when it failed a connection itself (it keeps the code private).
function closeCodeOf(error: Error & { code?: string }): number {
  switch (error.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function refuse(socket: Duplex, status: number, detail: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${detail}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function attachWebSocket(httpServer: Server, opts: WsAcceptorOptions = {}): WsAcceptor {
  const path = opts.path ?? CHAT_PATH;
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    // A certification server does not inflate what a hostile client compressed.
    perMessageDeflate: false,
    // The core records an invalid text frame (VIO_XML_INVALID_UTF8) before the 1007 close, so
    // the transport checks UTF-8 itself instead of letting ws drop the frame unseen.
    skipUTF8Validation: true,
    clientTracking: false,
  });
  const live = new Map<string, Live>();
  let handler: ((channel: FrameChannel) => void) | undefined;
  let seq = 0;
  let closing: Promise<void> | undefined;

  const reject = (
    socket: Duplex,
    req: IncomingMessage,
    reason: RejectReason,
    status: number,
    detail: string,
  ) => {
    opts.onReject?.({
      reason,
      path: (req.url ?? '').slice(0, 256),
      remoteAddress: req.socket.remoteAddress ?? '',
      status,
      detail,
    });
    refuse(socket, status, detail);
  };

  // ws reports handshake faults here instead of answering 400 itself when someone listens.
  wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
    reject(socket, req, 'bad_handshake', 400, error.message);
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The HTTP server drops its own error listener on upgrade; a reset during the handshake
    // must not become an unhandled error. ws adds its own once it takes the socket.
    socket.on('error', () => socket.destroy());
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    if (closing) return reject(socket, req, 'closing', 503, 'the server is shutting down');
    if (pathname !== path)
      return reject(socket, req, 'wrong_path', 404, 'no WebSocket endpoint at this path');
    if (!handler) return reject(socket, req, 'not_ready', 503, 'the server is not ready');
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  };
  httpServer.on('upgrade', onUpgrade);

  const accept = (ws: WebSocket, req: IncomingMessage) => {
    const id = `c${++seq}`;
    let channel: FrameChannel | undefined;
    const events = new ChannelEvents((error) => {
      if (channel) failChannel(channel, opts.onError, error);
    });
    // After a truncated frame every later byte would read as its payload: nothing more is sent,
    // and a close cannot be a close frame (it would be read as payload too), so the socket ends.
    let truncated = false;
    const close = (code: number, reason: string) => {
      assertCloseCode(code);
      if (!events.initiate(code, reason)) return;
      if (truncated) ws.terminate();
      else ws.close(code, truncateReason(reason));
    };
    channel = {
      id,
      remoteAddress: req.socket.remoteAddress ?? '',
      send(text) {
        if (truncated || events.closing || ws.readyState !== WebSocket.OPEN) return;
        ws.send(text);
        if (ws.bufferedAmount > maxBuffered) close(1008, TRANSPORT_REASONS.slowConsumer);
      },
      close,
      sendTruncatedFrame(announced, prefix) {
        if (truncated || events.closing || ws.readyState !== WebSocket.OPEN) return;
        truncated = true;
        // RFC 6455 §5.2: FIN + text opcode, no mask (server to client), 64-bit length.
        const head = Buffer.alloc(10);
        head[0] = 0x81;
        head[1] = 127;
        head.writeBigUInt64BE(BigInt(announced), 2);
        req.socket.write(Buffer.concat([head, prefix.subarray(0, Math.min(prefix.length, announced))]));
      },
      onFrame: (h) => events.onFrame(h),
      onClose: (h) => events.onClose(h),
    };
    const gone = new Promise<void>((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        live.delete(id);
        events.ended(code, reason.toString('utf8'));
        resolve();
      });
    });
    // ws has already started the close when it emits this (an oversized frame, a protocol
    // error); recording the code it used is all that is left to do.
    ws.on('error', (error: Error) => {
      const code = closeCodeOf(error);
      events.initiate(code, code === 1009 ? TRANSPORT_REASONS.tooLarge : error.message);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      events.frame(bytes, isBinary);
      // RFC 6455 §8.1: invalid UTF-8 in a text frame fails the connection. The frame went to
      // the core first so the transcript holds it.
      if (!isBinary && !isUtf8(bytes)) close(1007, TRANSPORT_REASONS.invalidUtf8);
    });
    live.set(id, { socket: ws, channel, gone });
    // An upgrade that completed while the server was shutting down.
    if (closing) return channel.close(1001, TRANSPORT_REASONS.shuttingDown);
    try {
      handler?.(channel);
    } catch (error) {
      failChannel(channel, opts.onError, error);
    }
  };

  return {
    onChannel(h) {
      handler = h;
    },
    get connections() {
      return live.size;
    },
    close() {
      closing ??= (async () => {
        const left = [...live.values()];
        for (const l of left) l.channel.close(1001, TRANSPORT_REASONS.shuttingDown);
        // A client that never answers the close frame is dropped after the grace period.
        const timer = setTimeout(() => {
          for (const l of left) l.socket.terminate();
        }, opts.closeGraceMs ?? 2000);
        await Promise.all(left.map((l) => l.gone));
        clearTimeout(timer);
        httpServer.off('upgrade', onUpgrade);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}
