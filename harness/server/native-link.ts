// An in-process connection between a peer and the server core: the peer's StanzaLink on one
// side, a FrameChannel on the other. Frames still cross as text and are parsed on arrival, so a
// peer attached this way goes through the same pipeline, checks and transcript as a client on
// a WebSocket; only the socket is missing. The harness's WhatsApp users attach this way.

import type { StanzaLink } from '../peers/link.ts';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import { serializeStanza } from '../xml/serialize.ts';
import type { FrameChannel } from './types.ts';

/** A peer's link that can also send raw frames (hostile-input tests). */
export interface RawStanzaLink extends StanzaLink {
  rawSend(data: string | Buffer, binary?: boolean): void;
}

export function nativePair(id: string): { channel: FrameChannel; link: RawStanzaLink } {
  let closed = false;
  const toServer = new Set<(data: Buffer, isBinary: boolean) => void>();
  const onServerClose = new Set<(code: number, reason: string) => void>();
  const toPeer = new Set<(node: StanzaNode) => void>();

  const shut = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    for (const h of onServerClose) h(code, reason);
  };

  const channel: FrameChannel = {
    id,
    remoteAddress: 'in-process',
    send(text) {
      // What the server wrote before it closed still reaches the peer (a stream error, say).
      if (closed) return;
      queueMicrotask(() => {
        const r = parseStanza(text);
        if (r.ok) for (const h of toPeer) h(r.node);
      });
    },
    close(code, reason) {
      shut(code, reason);
    },
    onFrame(handler) {
      toServer.add(handler);
    },
    onClose(handler) {
      onServerClose.add(handler);
    },
  };

  const deliver = (data: Buffer, binary: boolean) => {
    if (closed) return;
    queueMicrotask(() => {
      if (closed) return;
      for (const h of toServer) h(data, binary);
    });
  };
  const link: RawStanzaLink = {
    send(node) {
      deliver(Buffer.from(serializeStanza(node)), false);
    },
    rawSend(data, binary = false) {
      deliver(typeof data === 'string' ? Buffer.from(data) : data, binary);
    },
    onStanza(handler) {
      toPeer.add(handler);
      return () => toPeer.delete(handler);
    },
    close() {
      shut(1000, 'peer closed');
    },
    get closed() {
      return closed;
    },
  };
  return { channel, link };
}
