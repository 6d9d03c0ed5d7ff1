// A peer's link to the server over a real WebSocket (the `ws` client): stanzas out as canonical
// text frames, text frames in parsed by the stanza codec. `rawSend` writes any frame at all, for
// tests that play a hostile client.

import { WebSocket } from 'ws';
import type { StanzaNode } from '../xml/node.ts';
import type { XmlViolation } from '../xml/parse.ts';
import { parseStanza } from '../xml/parse.ts';
import { serializeStanza } from '../xml/serialize.ts';
import type { StanzaLink } from './link.ts';

/** The transport cap of PROFILE.md §9.1, the default for inbound frames here too. */
const DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024;

/** An inbound frame that was dropped instead of delivered. */
export interface InvalidFrame {
  /** The frame as received: text as a string, a binary frame as bytes. */
  readonly frame: string | Buffer;
  readonly isBinary: boolean;
  /** Why the codec refused it; absent for a binary frame (the text profile has none). */
  readonly violation?: XmlViolation;
}

export interface LinkOptions {
  /** Called once, when the connection is gone, with the close code this end observed. */
  readonly onClose?: (code: number, reason: string) => void;
  /** A frame that is not a stanza; it is dropped either way. */
  readonly onInvalid?: (invalid: InvalidFrame) => void;
}

export interface WsLinkOptions extends LinkOptions {
  /** Largest inbound frame; a larger one closes the link with 1009 before it is buffered. */
  readonly maxFrameBytes?: number;
}

export interface RawLink extends StanzaLink {
  /**
   * The close, once the connection is gone: the code this end sent if it closed first (also on
   * its own, as for an oversized frame), else the one it received (1005: the close frame held
   * none, 1006: there was no close frame).
   */
  readonly closeCode?: number;
  readonly closeReason?: string;
  /** Sends `data` as one frame, text unless `binary`; nothing is checked. */
  rawSend(data: string | Buffer, binary?: boolean): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a close frame, as a client that vanished would. */
  terminate(): void;
}

/**
 * The receiving half both links share: parse, hand to the handlers, or report and drop. A
 * handler is removed through the function `onStanza` returns.
 */
export function stanzaInbox(onInvalid: LinkOptions['onInvalid']): {
  onStanza(handler: (node: StanzaNode) => void): () => void;
  receive(frame: string | Buffer, isBinary: boolean): void;
} {
  const handlers = new Set<(node: StanzaNode) => void>();
  return {
    onStanza(handler) {
      // Wrapped, so the same function registered twice is two registrations.
      const h = (n: StanzaNode) => handler(n);
      handlers.add(h);
      return () => handlers.delete(h);
    },
    receive(frame, isBinary) {
      if (isBinary) {
        onInvalid?.({ frame, isBinary });
        return;
      }
      const parsed = parseStanza(frame);
      if (!parsed.ok) {
        const text = typeof frame === 'string' ? frame : frame.toString('utf8');
        onInvalid?.({ frame: text, isBinary, violation: parsed.violation });
        return;
      }
      for (const h of [...handlers]) h(parsed.node);
    },
  };
}

// The code ws closed with when it failed the connection itself (it keeps the code private).
function closeCodeOf(error: { code?: string }): number {
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

export function connectWsLink(url: string, opts: WsLinkOptions = {}): Promise<RawLink> {
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
  });
  const inbox = stanzaInbox(opts.onInvalid);
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  let closing = false;
  // The close this end started, which is what it reports (see `closeCode`).
  let sent: { code: number; reason: string } | undefined;

  const link: RawLink = {
    send(node) {
      link.rawSend(serializeStanza(node));
    },
    onStanza: (handler) => inbox.onStanza(handler),
    rawSend(data, binary = false) {
      if (closing || ws.readyState !== WebSocket.OPEN) return;
      ws.send(data, { binary });
    },
    close(code, reason) {
      if (closing) return;
      // ws throws on a code no endpoint may send; the link stays open then.
      ws.close(code, reason);
      closing = true;
      sent = { code: code ?? 1005, reason: reason ?? '' };
    },
    terminate() {
      closing = true;
      ws.terminate();
    },
    get closed() {
      return closing || closeCode !== undefined;
    },
    get closeCode() {
      return closeCode;
    },
    get closeReason() {
      return closeReason;
    },
  };

  ws.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    // ws has checked a text frame's UTF-8 (a server that breaks it fails the link with 1007);
    // the codec gets the bytes so that its size limit counts bytes.
    inbox.receive(bytes, isBinary);
  });

  return new Promise<RawLink>((resolve, reject) => {
    let opened = false;
    // Before the open, an error is the connection failing (a refused upgrade, no server);
    // after it, ws has already started closing the link itself (an oversized frame, a protocol
    // error) and the code it sent is recorded. Either way it must never go unhandled.
    ws.on('error', (error: Error & { code?: string }) => {
      if (!opened) return reject(error);
      closing = true;
      sent ??= { code: closeCodeOf(error), reason: '' };
    });
    ws.on('open', () => {
      opened = true;
      resolve(link);
    });
    ws.on('close', (code, reason) => {
      closeCode = sent?.code ?? code;
      closeReason = sent?.reason ?? reason.toString('utf8');
      if (!opened) reject(new Error(`connection to ${url} closed before it opened (${code})`));
      else opts.onClose?.(closeCode, closeReason);
    });
  });
}
