// What crossed the wire, read back from the server's transcript as stanza nodes: the one place
// scenarios get frames from, so each decides on the wire rather than on text matching.

import type { FrameEntry } from '../server/types.ts';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import type { ScenarioContext } from './context.ts';

export interface WireFrame {
  readonly seq: number;
  readonly direction: FrameEntry['direction'];
  readonly address: string | undefined;
  readonly node: StanzaNode;
}

export interface FrameFilter {
  readonly direction?: FrameEntry['direction'];
  /** The address logged in on the connection (the sender for c2s, the recipient for s2c). */
  readonly address?: string;
  readonly tag?: string;
}

/** Frames after transcript position `since` that parsed and match `filter`. */
export function framesSince(
  ctx: ScenarioContext<unknown>,
  since: number,
  filter: FrameFilter = {},
): WireFrame[] {
  const out: WireFrame[] = [];
  for (const e of ctx.server.transcript.slice(since)) {
    if (e.kind !== 'frame') continue;
    if (filter.direction && e.direction !== filter.direction) continue;
    if (filter.address && e.address !== filter.address) continue;
    // A cheap prefix test first: parsing every frame of a long run would dominate. It only saves
    // time (the parsed tag is checked below), so Stryker's mutants of it are equivalent.
    // Stryker disable next-line ConditionalExpression,StringLiteral
    if (filter.tag && !e.stanza.startsWith(`<${filter.tag}`)) continue;
    const parsed = parseStanza(e.stanza);
    if (!parsed.ok || (filter.tag && parsed.node.tag !== filter.tag)) continue;
    out.push({ seq: e.seq, direction: e.direction, address: e.address, node: parsed.node });
  }
  return out;
}

/** What the candidate sent after `since`, optionally of one tag. */
export function candidateSent(ctx: ScenarioContext<unknown>, since: number, tag?: string): WireFrame[] {
  return framesSince(ctx, since, { direction: 'c2s', address: ctx.candidate.jid, tag });
}

/**
 * Polls until `ready` holds or `ms` pass; returns whether it held. The server records a frame a
 * moment after the driver answered, so a frame that must be there gets this grace.
 */
export async function pollUntil(ready: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
