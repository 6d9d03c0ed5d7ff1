// What the candidate put on the wire, read back from the server's transcript as stanza nodes,
// so scenarios of the message, receipt, typing and blocking areas decide on frames, not on
// their text form.

import type { EventOf } from '../../harness/peers/events.ts';
import type { Peer } from '../../harness/peers/peer.ts';
import type { ScenarioContext } from '../../harness/scenario/context.ts';
import type { WireFrame } from '../../harness/scenario/wire.ts';
import { candidateSent, pollUntil } from '../../harness/scenario/wire.ts';
import type { StanzaNode } from '../../harness/xml/node.ts';

export type { WireFrame } from '../../harness/scenario/wire.ts';
export { candidateSent, framesSince } from '../../harness/scenario/wire.ts';

/** Waits at most `ms` for a frame the candidate sent that matches (decided on the wire). */
export async function awaitSent(
  ctx: ScenarioContext<unknown>,
  since: number,
  match: (f: WireFrame) => boolean,
  ms = 5000,
): Promise<WireFrame | undefined> {
  let hit: WireFrame | undefined;
  await pollUntil(() => {
    hit = candidateSent(ctx, since).find(match);
    return hit !== undefined;
  }, ms);
  return hit;
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
