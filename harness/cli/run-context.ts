// What `interop-cert run` hands to the vitest entry (suites/scenarios.test.ts) and what the entry
// hands back. The run settings cross into the test worker through vitest's `provide`/`inject`;
// each scenario run comes back in its test's meta, which vitest carries to the reporter in the
// main process. Both must be plain JSON-like data: they cross a worker boundary.

import type { Manifest } from '../driver/contract.ts';
import type { DriverLogEntry } from '../driver/log.ts';
import { runKey } from '../report/summary.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import type { ScenarioResult } from '../scenario/runner.ts';

export type CandidateTarget =
  | { readonly kind: 'reference'; readonly faults: readonly string[] }
  | { readonly kind: 'url'; readonly url: string };

export type EvidenceMode = 'failures' | 'all';

/** The run as the entry sees it. Absent in `npm test`, where the entry is the suite's self-test. */
export interface RunSettings {
  readonly candidate: CandidateTarget;
  readonly profiles: readonly CryptoProfileId[];
  readonly seed: string;
  /** Scenario id glob (`E2EE-*`). */
  readonly filter?: string;
  readonly shard?: Shard;
  readonly evidence: EvidenceMode;
}

export interface Shard {
  /** From 1. */
  readonly index: number;
  readonly count: number;
}

/** A scenario run as the entry declares it, before it runs (the test's static meta). */
export interface PlannedRun {
  readonly id: string;
  readonly variant: string;
  readonly profile: CryptoProfileId;
  readonly level: ScenarioResult['level'];
  readonly requirements: readonly string[];
}

/** A finished scenario run as it travels to the reporter. */
export interface RunRecord {
  readonly result: ScenarioResult;
  /** Absent when the run never reached the candidate. */
  readonly manifest?: Manifest;
  /** The driver calls made while the scenario ran. */
  readonly driverLog: readonly DriverLogEntry[];
  /** Server clock minus wall clock when the scenario started: maps step times onto frames. */
  readonly clockOffsetMs: number;
}

declare module 'vitest' {
  interface ProvidedContext {
    interopRun: RunSettings | undefined;
  }
}

// Vitest's TaskMeta is declared by its runner package and re-exported.
declare module '@vitest/runner' {
  interface TaskMeta {
    interopPlanned?: PlannedRun;
    interopRecord?: RunRecord;
  }
}

/** `*` and `?` globs over scenario ids, e.g. `E2EE-*` or `MSG-TEXT-00?`. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** `i/n` with 1 <= i <= n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard takes i/n with 1 <= i <= n, e.g. 1/4; got "${text}"`);
  }
  return { index, count };
}

/**
 * The runs of one shard. Vitest shards by file and the suite is one file, so the entry shards
 * its own runs: position modulo count in the list ordered by profile, scenario id and variant.
 * Every run lands in exactly one shard whatever the order of the input; neighbours (the variants
 * of one scenario, the scenarios of one area) go to different shards, so a shard selected
 * further by `--tags` (an area, a profile) keeps its share.
 */
export function inShard<T extends { id: string; variant: string; profile: string }>(
  runs: readonly T[],
  shard: Shard | undefined,
): T[] {
  if (!shard) return [...runs];
  const order = (r: T) => `${r.profile} ${runKey(r)}`;
  const ordered = [...runs].sort((a, b) => compareKeys(order(a), order(b)));
  const keep = new Set(ordered.filter((_, i) => i % shard.count === shard.index - 1).map(runKey));
  return runs.filter((r) => keep.has(runKey(r)));
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
