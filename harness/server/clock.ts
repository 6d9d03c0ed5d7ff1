// The server clock. It runs with wall time from the moment the server starts, plus an offset
// the harness controls: `advance(30 days)` makes mailbox expiry, un-enlistment and signed-prekey
// age happen at once, without waiting. `frozen` stops it for exact replays and benchmarks.

import type { Clock } from './types.ts';

export interface ClockOptions {
  /** Server time at start, milliseconds since the epoch (default: wall time). */
  readonly start?: number;
  /** Time moves only by advance() (default: false, it runs with wall time). */
  readonly frozen?: boolean;
}

export class VirtualClock implements Clock {
  readonly #startWall = performance.now();
  readonly #start: number;
  #offset = 0;
  #frozen: boolean;
  #frozenAt = 0;

  constructor(options: ClockOptions = {}) {
    this.#start = options.start ?? Date.now();
    this.#frozen = options.frozen ?? false;
  }

  now(): number {
    if (this.#frozen) return this.#start + this.#offset;
    return Math.floor(this.#start + (performance.now() - this.#startWall) + this.#offset);
  }

  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Moves server time forward (or back, with a negative value: a skew). */
  advance(ms: number): void {
    this.#offset += ms;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  freeze(): void {
    if (this.#frozen) return;
    this.#frozenAt = this.now();
    this.#offset = this.#frozenAt - this.#start;
    this.#frozen = true;
  }
}

export const DAY_MS = 24 * 60 * 60 * 1000;
