// The offline mailbox and the in-flight set (docs/PROFILE.md §5.5, §5.6): every message,
// receipt and notification stays the server's responsibility until the recipient acks it.
// Delivered and unacked when the connection drops, it goes back to the mailbox and is
// delivered again, in the order the server accepted it, at the next login.

import type { StanzaNode } from '../xml/node.ts';
import { DAY_MS } from './clock.ts';

export const MAILBOX_DAYS = 30;

export type MailKind = 'message' | 'receipt' | 'notification';

export interface MailEntry {
  /** Acceptance order across the whole server. */
  readonly seq: number;
  readonly to: string;
  readonly kind: MailKind;
  readonly node: StanzaNode;
  readonly storedAt: number;
}

/** The key a client's ack names: class, id and the counterpart it acks (`to` of the ack). */
export function ackKey(kind: MailKind, id: string, counterpart: string): string {
  return `${kind}\u0000${id}\u0000${counterpart}`;
}

function keyOf(e: MailEntry): string {
  return ackKey(e.kind, e.node.attrs.id ?? '', e.node.attrs.from ?? '');
}

export class Mailbox {
  readonly #stored = new Map<string, MailEntry[]>();
  readonly #inflight = new Map<string, Map<string, MailEntry>>();
  #seq = 0;

  /** Keeps a stanza for a recipient who is not connected. */
  store(to: string, kind: MailKind, node: StanzaNode, now: number): MailEntry {
    const e: MailEntry = { seq: ++this.#seq, to, kind, node, storedAt: now };
    const list = this.#stored.get(to);
    if (list) list.push(e);
    else this.#stored.set(to, [e]);
    return e;
  }

  /** Records a stanza delivered live, which stays in flight until acked. */
  sent(to: string, kind: MailKind, node: StanzaNode, now: number): MailEntry {
    const e: MailEntry = { seq: ++this.#seq, to, kind, node, storedAt: now };
    this.#flight(to).set(keyOf(e), e);
    return e;
  }

  /** Everything stored for `to` that is younger than 30 days, in order; now in flight. */
  take(to: string, now: number): { entries: MailEntry[]; expired: MailEntry[] } {
    const list = this.#stored.get(to) ?? [];
    this.#stored.delete(to);
    const limit = now - MAILBOX_DAYS * DAY_MS;
    const entries = list.filter((e) => e.storedAt > limit).sort((a, b) => a.seq - b.seq);
    const expired = list.filter((e) => e.storedAt <= limit);
    const flight = this.#flight(to);
    for (const e of entries) flight.set(keyOf(e), e);
    return { entries, expired };
  }

  /** The recipient acked: the stanza is done. Returns whether it was in flight. */
  ack(to: string, key: string): boolean {
    return this.#inflight.get(to)?.delete(key) ?? false;
  }

  /** The connection dropped: what was in flight goes back to the mailbox, in order. */
  requeue(to: string): number {
    const flight = this.#inflight.get(to);
    if (!flight || flight.size === 0) return 0;
    const back = [...flight.values()];
    this.#inflight.delete(to);
    const merged = [...back, ...(this.#stored.get(to) ?? [])].sort((a, b) => a.seq - b.seq);
    this.#stored.set(to, merged);
    return back.length;
  }

  pending(to: string): number {
    return (this.#stored.get(to)?.length ?? 0) + (this.#inflight.get(to)?.size ?? 0);
  }

  #flight(to: string): Map<string, MailEntry> {
    let m = this.#inflight.get(to);
    if (!m) {
      m = new Map();
      this.#inflight.set(to, m);
    }
    return m;
  }
}
