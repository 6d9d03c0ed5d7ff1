// What the candidate put on the wire, read back from the server's transcript: its message
// stanzas with their ciphertexts, its acks, its receipts. E2EE and PRIV scenarios share these so
// each check is decided on the wire before waiting on something a faulty candidate never does.

import type { Ciphertext } from '../../harness/crypto/profile.ts';
import type { Peer } from '../../harness/peers/peer.ts';
import type { CandidateEventOf } from '../../harness/scenario/candidate-events.ts';
import type { ScenarioContext } from '../../harness/scenario/context.ts';
import { candidateSent, pollUntil } from '../../harness/scenario/wire.ts';
import type { StanzaNode } from '../../harness/xml/node.ts';
import { bytesOf, child } from '../../harness/xml/node.ts';

type Ctx = ScenarioContext<unknown>;

export interface SentStanza {
  readonly seq: number;
  readonly node: StanzaNode;
}

export interface SentMessage extends SentStanza {
  readonly id: string;
  readonly to: string;
  readonly ct: Ciphertext | undefined;
  /** The `count` attribute of <enc> (a re-send after a retry receipt). */
  readonly count: string | undefined;
}

/** The stanzas of one tag the candidate sent since `seq`, parsed. */
export function sentStanzas(ctx: Ctx, tag: string, seq = 0): SentStanza[] {
  return candidateSent(ctx, seq, tag).map((f) => ({ seq: f.seq, node: f.node }));
}

/** The message stanzas the candidate sent since `seq` (to `to` when given). */
export function sentMessages(ctx: Ctx, seq = 0, to?: string): SentMessage[] {
  return sentStanzas(ctx, 'message', seq)
    .map((s): SentMessage => {
      const enc = child(s.node, 'enc');
      const bytes = bytesOf(enc);
      const type = enc?.attrs.type;
      return {
        ...s,
        id: s.node.attrs.id ?? '',
        to: s.node.attrs.to ?? '',
        ct: bytes && (type === 'pkmsg' || type === 'msg') ? ({ type, bytes } as Ciphertext) : undefined,
        count: enc?.attrs.count,
      };
    })
    .filter((m) => to === undefined || m.to === to);
}

/** The candidate's acks of message `id` since `seq`. */
export function sentAcks(ctx: Ctx, id: string, seq = 0): SentStanza[] {
  return sentStanzas(ctx, 'ack', seq).filter(
    (a) => a.node.attrs.id === id && a.node.attrs.class === 'message',
  );
}

/** The candidate's retry receipts for `id` since `seq`. */
export function sentRetries(ctx: Ctx, id: string, seq = 0): SentStanza[] {
  return sentStanzas(ctx, 'receipt', seq).filter(
    (r) => r.node.attrs.id === id && r.node.attrs.type === 'retry',
  );
}

/** Polls the transcript until `ready` holds or `ms` pass; returns whether it held. */
export const untilWire = pollUntil;

export type Outcome =
  | { readonly shown: true; readonly event: CandidateEventOf<'message-received'> }
  | { readonly shown: false; readonly event: CandidateEventOf<'message-rejected'> };

/** Waits until the candidate shows or refuses message `id` (one of the two always happens). */
export function shownOrRejected(ctx: Ctx, id: string, since: number, timeoutMs = 5000): Promise<Outcome> {
  const ev = ctx.candidate.events;
  return Promise.race([
    ev
      .waitFor('message-received', (e) => e.id === id, { since, timeoutMs })
      .then((event): Outcome => ({ shown: true, event })),
    ev
      .waitFor('message-rejected', (e) => e.id === id, { since, timeoutMs })
      .then((event): Outcome => ({ shown: false, event })),
  ]);
}

/** A conversation both ways, so the next messages are `msg` on an established session. */
export async function converse(ctx: Ctx, peer: Peer): Promise<void> {
  await ctx.step('a conversation both ways', async () => {
    const a = await peer.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
    await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
    const { id } = await ctx.candidate.driver.send({
      to: peer.jid,
      content: { type: 'text', text: 'hi back' },
    });
    await peer.events.waitFor('message', (e) => e.id === id);
  });
}

export function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
}
