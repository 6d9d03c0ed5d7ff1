// What the candidate put on the wire, read back from the server's transcript as stanza nodes,
// so scenarios of the message, receipt, typing and blocking areas decide on frames, not on
// their text form.

import type { EventOf } from '../../harness/peers/events.ts';
import type { Peer } from '../../harness/peers/peer.ts';
import type { ScenarioContext } from '../../harness/scenario/context.ts';
import type { FrameEntry } from '../../harness/server/types.ts';
import type { StanzaNode } from '../../harness/xml/node.ts';
import { parseStanza } from '../../harness/xml/parse.ts';

export interface WireFrame {
  readonly seq: number;
  readonly direction: FrameEntry['direction'];
  readonly address: string | undefined;
  readonly node: StanzaNode;
}

/** Frames after `since` that parsed, optionally only those sent by (c2s) or to (s2c) `address`. */
export function framesSince(
  ctx: ScenarioContext<unknown>,
  since: number,
  filter: { direction?: FrameEntry['direction']; address?: string; tag?: string } = {},
): WireFrame[] {
  const out: WireFrame[] = [];
  for (const e of ctx.server.transcript.slice(since)) {
    if (e.kind !== 'frame') continue;
    if (filter.direction && e.direction !== filter.direction) continue;
    if (filter.address && e.address !== filter.address) continue;
    const parsed = parseStanza(e.stanza);
    if (!parsed.ok) continue;
    if (filter.tag && parsed.node.tag !== filter.tag) continue;
    out.push({ seq: e.seq, direction: e.direction, address: e.address, node: parsed.node });
  }
  return out;
}

/** What the candidate sent after `since`, optionally of one tag. */
export function candidateSent(ctx: ScenarioContext<unknown>, since: number, tag?: string): WireFrame[] {
  return framesSince(ctx, since, {
    direction: 'c2s',
    address: ctx.candidate.jid,
    ...(tag === undefined ? {} : { tag }),
  });
}

/**
 * Polls the transcript until a frame the candidate sent matches, for at most `ms`: the server
 * records a frame a moment after the driver answered, so a frame that must be there gets this
 * grace, and one that never comes is decided on the wire, not by waiting on the candidate.
 */
export async function awaitSent(
  ctx: ScenarioContext<unknown>,
  since: number,
  match: (f: WireFrame) => boolean,
  ms = 5000,
): Promise<WireFrame | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = candidateSent(ctx, since).find(match);
    if (hit || Date.now() >= deadline) return hit;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The ids a receipt covers: its own id, then its list. */
export function receiptIds(node: StanzaNode): string[] {
  const list = (node.content instanceof Uint8Array ? [] : (node.content ?? [])).find((c) => c.tag === 'list');
  const items = list && !(list.content instanceof Uint8Array) ? (list.content ?? []) : [];
  return [node.attrs.id ?? '', ...items.map((i) => i.attrs.id ?? '')];
}

/**
 * What a peer made of a message the candidate sent: decrypted (and its media checked), or
 * refused with the peer's code. Waits for whichever comes first, so a refusal is a finding with
 * its real reason rather than a timeout.
 */
export async function peerOutcome(
  peer: Peer,
  id: string,
): Promise<{ message: EventOf<'message'> } | { rejected: EventOf<'message-rejected'> }> {
  return Promise.race([
    peer.events.waitFor('message', (e) => e.id === id).then((message) => ({ message })),
    peer.events.waitFor('message-rejected', (e) => e.id === id).then((rejected) => ({ rejected })),
  ]);
}
