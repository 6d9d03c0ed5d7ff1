// What a peer saw, in order, and a way to wait for something to happen.
//
// Waiting scans the history first, then listens, so a test never races an event that arrived
// before it started waiting. A wait that runs out is a TIMEOUT, never a silent pass.

import type { ViolationCode } from '../codes.ts';
import type { MessageContent } from '../crypto/content.ts';

export type ReceiptType = 'delivery' | 'read' | 'played' | 'retry';

export type PeerEvent =
  | {
      readonly type: 'message';
      readonly id: string;
      readonly from: string;
      readonly t: number;
      readonly content: MessageContent;
      /** The decrypted media file, for media messages. */
      readonly file?: Uint8Array;
      /** `count` of the enc when the sender re-sent it after a retry receipt. */
      readonly retryCount?: number;
      readonly offline: boolean;
    }
  | {
      readonly type: 'message-rejected';
      readonly id: string;
      readonly from: string;
      readonly code: ViolationCode;
      readonly message: string;
    }
  | {
      readonly type: 'receipt';
      readonly id: string;
      readonly from: string;
      readonly receiptType: ReceiptType;
      /** Every message id the receipt covers (its own id first, then its list). */
      readonly ids: readonly string[];
      readonly retryCount?: number;
    }
  | { readonly type: 'retry-sent'; readonly id: string; readonly to: string; readonly count: number }
  | { readonly type: 'resent'; readonly id: string; readonly to: string; readonly count: number }
  | { readonly type: 'security-notice'; readonly from: string }
  | { readonly type: 'identity-changed'; readonly from: string }
  | {
      readonly type: 'chatstate';
      readonly from: string;
      readonly state: 'composing' | 'paused';
      readonly media?: string;
    }
  | { readonly type: 'presence'; readonly from: string; readonly presence: string }
  | { readonly type: 'nack'; readonly id: string; readonly error: string }
  | { readonly type: 'prekeys-low'; readonly count: number }
  | { readonly type: 'prekeys-uploaded'; readonly count: number };

export type PeerEventType = PeerEvent['type'];
export type EventOf<T extends PeerEventType> = Extract<PeerEvent, { type: T }>;

export class WaitTimeout extends Error {
  readonly code = 'TIMEOUT';
  constructor(what: string, ms: number) {
    super(`TIMEOUT: no ${what} within ${ms} ms`);
    this.name = 'WaitTimeout';
  }
}

interface Waiter {
  readonly match: (e: PeerEvent) => boolean;
  readonly resolve: (e: PeerEvent) => void;
}

export class EventLog {
  readonly #events: PeerEvent[] = [];
  #waiters: Waiter[] = [];

  readonly #listeners = new Set<(e: PeerEvent) => void>();

  /** Calls `fn` for every event from now on; returns a function that stops it. */
  subscribe(fn: (e: PeerEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  push(e: PeerEvent): void {
    this.#events.push(e);
    for (const fn of this.#listeners) fn(e);
    const ready = this.#waiters.filter((w) => w.match(e));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(e);
  }

  all(): readonly PeerEvent[] {
    return this.#events;
  }

  /** Position to pass as `since`, to wait only for what happens after now. */
  get cursor(): number {
    return this.#events.length;
  }

  of<T extends PeerEventType>(type: T): EventOf<T>[] {
    return this.#events.filter((e): e is EventOf<T> => e.type === type);
  }

  /** The first event of `type` (at or after `since`) that satisfies `where`. */
  waitFor<T extends PeerEventType>(
    type: T,
    where: (e: EventOf<T>) => boolean = () => true,
    options: { timeoutMs?: number; since?: number } = {},
  ): Promise<EventOf<T>> {
    const match = (e: PeerEvent): e is EventOf<T> => e.type === type && where(e as EventOf<T>);
    const seen = this.#events.slice(options.since ?? 0).find(match);
    if (seen) return Promise.resolve(seen);
    const ms = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as EventOf<T>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new WaitTimeout(type, ms));
      }, ms);
      this.#waiters.push(waiter);
    });
  }
}
