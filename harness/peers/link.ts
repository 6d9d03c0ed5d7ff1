// How a peer reaches the server: a link that carries whole stanzas both ways. The server issue
// adds a WebSocket link; tests use an in-memory pair. Either way every stanza crosses as
// canonical text and is parsed again on the other side, exactly as on the wire.

import { checkFrame } from '../schema/check.ts';
import type { Direction } from '../schema/kinds.ts';
import type { StanzaViolation } from '../schema/validate.ts';
import type { StanzaNode } from '../xml/node.ts';
import { serializeStanza } from '../xml/serialize.ts';

export interface StanzaLink {
  send(node: StanzaNode): void;
  /** Registers the handler for inbound stanzas; returns a function that removes it. */
  onStanza(handler: (node: StanzaNode) => void): () => void;
  close(): void;
  readonly closed: boolean;
}

export interface FrameRecord {
  readonly direction: Direction;
  readonly text: string;
  readonly violations: readonly StanzaViolation[];
}

/**
 * Two connected ends: `client` (what a peer holds) and `server`. Frames are delivered on a
 * later microtask, in order, and every frame is checked for its direction; `frames` keeps
 * them all (into `frames`, which several pairs may share) so tests can assert that nothing
 * invalid crossed.
 */
export function memoryLinkPair(frames: FrameRecord[] = []): {
  client: StanzaLink;
  server: StanzaLink;
  frames: FrameRecord[];
} {
  const handlers: Record<Direction, Set<(n: StanzaNode) => void>> = { c2s: new Set(), s2c: new Set() };
  let closed = false;

  const end = (outbound: Direction, inbound: Direction): StanzaLink => ({
    send(node) {
      if (closed) return;
      const text = serializeStanza(node);
      const checked = checkFrame(text, { direction: outbound });
      frames.push({ direction: outbound, text, violations: checked.violations });
      const parsed = checked.node;
      if (!parsed) return;
      queueMicrotask(() => {
        if (closed) return;
        for (const h of handlers[outbound]) h(parsed);
      });
    },
    onStanza(handler) {
      handlers[inbound].add(handler);
      return () => handlers[inbound].delete(handler);
    },
    close() {
      closed = true;
    },
    get closed() {
      return closed;
    },
  });
  // The client sends c2s and hears s2c; the server the other way round.
  return { client: end('c2s', 's2c'), server: end('s2c', 'c2s'), frames };
}
