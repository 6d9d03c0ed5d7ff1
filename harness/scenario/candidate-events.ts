// The candidate's events, pulled from its driver by long-poll into one ordered log the
// scenario can wait on. Like a peer's EventLog: waiting looks at the history first, so an event
// that came early is never missed, and a wait that runs out is a TIMEOUT.

import type { CandidateDriver, DriverEvent, DriverEventType } from '../driver/contract.ts';
import { WaitTimeout } from '../peers/events.ts';

export type CandidateEventOf<T extends DriverEventType> = Extract<DriverEvent, { type: T }>;

interface Waiter {
  readonly match: (e: DriverEvent) => boolean;
  readonly resolve: (e: DriverEvent) => void;
}

export class CandidateEvents {
  readonly #driver: CandidateDriver;
  readonly #events: DriverEvent[] = [];
  #waiters: Waiter[] = [];
  #last = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  /** A driver failure seen by the poller; waits reject with it. */
  #failure: Error | undefined;

  constructor(driver: CandidateDriver) {
    this.#driver = driver;
  }

  /** Starts polling after event `after` (the last one a previous run saw). */
  start(after = 0, waitMs = 250): void {
    if (this.#running) return;
    this.#running = true;
    this.#last = after;
    this.#loop = (async () => {
      while (this.#running) {
        try {
          const r = await this.#driver.events(this.#last, waitMs);
          for (const e of r.events) if (e.seq > this.#last) this.#push(e);
          this.#last = Math.max(this.#last, r.last);
        } catch (e) {
          this.#failure = e instanceof Error ? e : new Error(String(e));
          this.#running = false;
          for (const w of this.#waiters.splice(0)) w.resolve(undefined as unknown as DriverEvent);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Index into the log: pass as `since` to wait only for later events. */
  get cursor(): number {
    return this.#events.length;
  }

  all(): readonly DriverEvent[] {
    return this.#events;
  }

  of<T extends DriverEventType>(type: T, since = 0): CandidateEventOf<T>[] {
    return this.#events.slice(since).filter((e): e is CandidateEventOf<T> => e.type === type);
  }

  #push(e: DriverEvent): void {
    this.#events.push(e);
    const ready = this.#waiters.filter((w) => w.match(e));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(e);
  }

  waitFor<T extends DriverEventType>(
    type: T,
    where: (e: CandidateEventOf<T>) => boolean = () => true,
    options: { timeoutMs?: number; since?: number } = {},
  ): Promise<CandidateEventOf<T>> {
    const match = (e: DriverEvent): boolean => e.type === type && where(e as CandidateEventOf<T>);
    const seen = this.#events.slice(options.since ?? 0).find(match);
    if (seen) return Promise.resolve(seen as CandidateEventOf<T>);
    if (this.#failure) return Promise.reject(this.#failure);
    const ms = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          if (this.#failure && e === undefined) reject(this.#failure);
          else resolve(e as CandidateEventOf<T>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new WaitTimeout(`candidate event ${type}`, ms));
      }, ms);
      this.#waiters.push(waiter);
    });
  }
}
