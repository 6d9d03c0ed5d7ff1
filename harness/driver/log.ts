// Every driver call as evidence: what the harness asked, what the candidate answered (or how
// it failed), and how long it took. The report attaches a scenario's slice of it, so a vendor
// sees exactly what their driver was told and said. Retries are separate entries: a retried
// call is visible, never silently green.

import { createHash } from 'node:crypto';
import type { Endpoint } from './contract.ts';

export interface DriverLogEntry {
  /** Position in this log, from 1. */
  readonly seq: number;
  readonly endpoint: Endpoint;
  readonly method: 'GET' | 'POST';
  /** Path with query, e.g. `/v1/events?after=3&wait=5000`. */
  readonly path: string;
  /** 1 for the first try; retries count up. */
  readonly attempt: number;
  /** Wall-clock milliseconds since the epoch when the call started. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly request?: unknown;
  readonly status?: number;
  /** The parsed answer body (error bodies too), long strings shortened. */
  readonly response?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export type DriverLogInput = Omit<DriverLogEntry, 'seq'>;

export interface DriverLogOptions {
  /** Oldest entries are dropped beyond this; `dropped` counts them. Default 10 000. */
  readonly maxEntries?: number;
  /** Strings longer than this (base64 media) are logged as their length and SHA-256. Default 1024. */
  readonly maxStringChars?: number;
}

export class DriverLog {
  readonly #entries: DriverLogEntry[] = [];
  readonly #maxEntries: number;
  readonly #maxStringChars: number;
  #seq = 0;
  #dropped = 0;

  constructor(options: DriverLogOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxStringChars = options.maxStringChars ?? 1024;
  }

  record(input: DriverLogInput): DriverLogEntry {
    const entry: DriverLogEntry = {
      seq: ++this.#seq,
      ...input,
      ...(input.request !== undefined && { request: shorten(input.request, this.#maxStringChars) }),
      ...(input.response !== undefined && { response: shorten(input.response, this.#maxStringChars) }),
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#maxEntries) {
      this.#entries.shift();
      this.#dropped++;
    }
    return entry;
  }

  entries(): readonly DriverLogEntry[] {
    return [...this.#entries];
  }

  /** The seq of the newest entry: pass it to `since` later to get what came after. */
  mark(): number {
    return this.#seq;
  }

  since(mark: number): readonly DriverLogEntry[] {
    return this.#entries.filter((e) => e.seq > mark);
  }

  /** How many old entries were dropped to keep the log within maxEntries. */
  get dropped(): number {
    return this.#dropped;
  }

  /** One JSON object per line, for the evidence folder. */
  toJsonl(entries: readonly DriverLogEntry[] = this.#entries): string {
    return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
  }
}

function shorten(value: unknown, max: number): unknown {
  if (typeof value === 'string') {
    if (value.length <= max) return value;
    const digest = createHash('sha256').update(value, 'utf8').digest('hex');
    return `<${value.length} characters, sha256 ${digest}>`;
  }
  if (Array.isArray(value)) return value.map((v) => shorten(v, max));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v, max)]));
  }
  return value;
}
