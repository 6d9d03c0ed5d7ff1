// A peer's link to the in-process server (harness/server/transport-memory.ts) over mock-socket's
// WebSocket: the same surface as the ws link, for fast unit tests. mock-socket follows the
// browser API, so the link inherits its limits: close() takes only 1000 or 3000-4999, a text
// frame is a JS string (bytes that are not UTF-8 cannot be sent as text), and there is no
// inbound frame limit.

import { WebSocket as MockWebSocket } from 'mock-socket';
import { serializeStanza } from '../xml/serialize.ts';
import type { LinkOptions, RawLink } from './ws-link.ts';
import { stanzaInbox } from './ws-link.ts';

interface CloseEventLike {
  readonly code?: number;
  readonly reason?: string;
}

export function connectMockLink(url: string, opts: LinkOptions = {}): Promise<RawLink> {
  const ws = new MockWebSocket(url);
  ws.binaryType = 'arraybuffer';
  const inbox = stanzaInbox(opts.onInvalid);
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  let closing = false;

  const link: RawLink = {
    send(node) {
      link.rawSend(serializeStanza(node));
    },
    onStanza: (handler) => inbox.onStanza(handler),
    rawSend(data, binary = false) {
      // mock-socket would deliver even from a closed socket.
      if (closing || ws.readyState !== MockWebSocket.OPEN) return;
      if (binary) {
        // A copy: mock-socket delivers later and by reference.
        ws.send(Uint8Array.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).buffer);
      } else {
        ws.send(typeof data === 'string' ? data : data.toString('utf8'));
      }
    },
    close(code, reason) {
      if (closing) return;
      closing = true;
      ws.close(code, reason);
    },
    terminate() {
      if (closing && ws.readyState === MockWebSocket.CLOSED) return;
      closing = true;
      // No socket to destroy: report a drop the way a browser does, on the one object both
      // ends listen on, so the in-process server sees it too. The state is set first because
      // mock-socket would otherwise go on delivering to this socket.
      (ws as unknown as { readyState: number }).readyState = MockWebSocket.CLOSED;
      ws.dispatchEvent(new Event('error'));
      ws.dispatchEvent(Object.assign(new Event('close'), { code: 1006, reason: '', wasClean: false }));
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

  ws.addEventListener('message', (event: Event) => {
    const data: unknown = (event as MessageEvent).data;
    if (typeof data === 'string') inbox.receive(data, false);
    else if (data instanceof ArrayBuffer) inbox.receive(Buffer.from(new Uint8Array(data)), true);
  });

  return new Promise<RawLink>((resolve, reject) => {
    let opened = false;
    ws.addEventListener('error', () => {
      if (!opened) reject(new Error(`connection to ${url} failed`));
    });
    ws.addEventListener('open', () => {
      opened = true;
      resolve(link);
    });
    ws.addEventListener('close', (event: Event) => {
      if (closeCode !== undefined) return;
      const e = event as unknown as CloseEventLike;
      closeCode = e.code ?? 1005;
      closeReason = e.reason ?? '';
      if (!opened) reject(new Error(`connection to ${url} closed before it opened (${closeCode})`));
      else opts.onClose?.(closeCode, closeReason);
    });
  });
}
