// The transcript: every frame in both directions and every server event, in order, with the
// server clock. Kept in memory for scenarios to slice, and optionally streamed to a JSONL
// file as it happens, so a crash mid-run still leaves the wire log behind.

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, EventEntry, FrameEntry, TranscriptEntry, TranscriptSink } from './types.ts';

export interface TranscriptOptions {
  /** A JSONL file to append each entry to. */
  readonly file?: string;
  /** Keep at most this many entries in memory (the file keeps all); default unbounded. */
  readonly maxEntries?: number;
}

export class Transcript implements TranscriptSink {
  readonly #clock: Clock;
  readonly #entries: TranscriptEntry[] = [];
  readonly #file: string | undefined;
  readonly #max: number;
  #seq = 0;
  #dropped = 0;

  constructor(clock: Clock, options: TranscriptOptions = {}) {
    this.#clock = clock;
    this.#file = options.file;
    this.#max = options.maxEntries ?? Number.POSITIVE_INFINITY;
    if (this.#file) {
      mkdirSync(dirname(this.#file), { recursive: true });
      writeFileSync(this.#file, '');
    }
  }

  frame(entry: Omit<FrameEntry, 'kind' | 'seq' | 'clock'>): FrameEntry {
    return this.#add({ kind: 'frame', seq: ++this.#seq, clock: this.#clock.now(), ...entry });
  }

  event(entry: Omit<EventEntry, 'kind' | 'seq' | 'clock'>): EventEntry {
    return this.#add({ kind: 'event', seq: ++this.#seq, clock: this.#clock.now(), ...entry });
  }

  #add<T extends TranscriptEntry>(e: T): T {
    this.#entries.push(e);
    // Trim in chunks: shifting one entry off a long array on every frame would be quadratic.
    if (this.#entries.length > this.#max + Math.ceil(this.#max / 10)) {
      const excess = this.#entries.length - this.#max;
      this.#entries.splice(0, excess);
      this.#dropped += excess;
    }
    if (this.#file) appendFileSync(this.#file, `${JSON.stringify(e)}\n`);
    return e;
  }

  /** The sequence number of the last entry: take it before a step, slice after. */
  get seq(): number {
    return this.#seq;
  }

  entries(): readonly TranscriptEntry[] {
    return this.#entries;
  }

  /** Entries with seq in (afterSeq, toSeq]. */
  slice(afterSeq: number, toSeq = Number.POSITIVE_INFINITY): TranscriptEntry[] {
    return this.#entries.filter((e) => e.seq > afterSeq && e.seq <= toSeq);
  }

  /** Every violation recorded after `afterSeq`, with the entry it belongs to. */
  violations(afterSeq = 0): { entry: TranscriptEntry; code: string; message: string }[] {
    const out: { entry: TranscriptEntry; code: string; message: string }[] = [];
    for (const e of this.slice(afterSeq))
      for (const v of e.violations ?? []) out.push({ entry: e, code: v.code, message: v.message });
    return out;
  }

  get dropped(): number {
    return this.#dropped;
  }

  toJsonl(entries: readonly TranscriptEntry[] = this.#entries): string {
    return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  }
}
