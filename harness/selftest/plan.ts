// What the fault-detection gate runs (npm run selftest): the whole suite against the clean
// reference candidate, then each fault of the faults table against the scenarios most likely
// to catch it. A fault is caught when a scenario FAILs with one of the fault's declared codes.
//
// Scenarios are tried in tiers: those that check one of the fault's requirements, then the rest
// of the fault's area, then everything else. A tier runs whole (so the matrix shows every
// scenario of it that caught the fault) and the next tier runs only when this one caught
// nothing; a fault caught only in the third tier is reported as caught outside its area, a sign
// that its targeted scenario is weak. `--full` runs every tier for every fault.

import type { CryptoProfileId } from '../requirements/types.ts';
import { areaOf } from '../scenario/define.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import type { Outcome } from '../scenario/runner.ts';

export interface FaultRow {
  readonly name: string;
  readonly area: string;
  readonly requirements: readonly string[];
  readonly codes: readonly string[];
  readonly profiles?: readonly CryptoProfileId[];
}

export type Tier = 'requirement' | 'area' | 'other';
export const TIERS: readonly Tier[] = ['requirement', 'area', 'other'];

/** The scenarios of each tier for one fault, in suite order. */
export function tiersFor(
  fault: FaultRow,
  scenarios: readonly LoadedScenario[],
): Record<Tier, LoadedScenario[]> {
  const out: Record<Tier, LoadedScenario[]> = { requirement: [], area: [], other: [] };
  for (const s of scenarios) {
    if (s.scenario.requirements.some((r) => fault.requirements.includes(r))) out.requirement.push(s);
    else if (areaOf(s.scenario.id) === fault.area) out.area.push(s);
    else out.other.push(s);
  }
  return out;
}

/** The profile a fault is tried under: its own when it has one, else PQXDH. */
export function profileFor(fault: FaultRow): CryptoProfileId {
  return fault.profiles?.[0] ?? 'signal-pqxdh';
}

/**
 * True when the run FAILed with one of the fault's declared codes. A fault that breaks only
 * SHOULD requirements is caught by a NON_STRICT run with its code: that is the outcome the
 * scenario must give it (DESIGN.md), and a FAIL would be the scenario's own bug.
 */
export function catches(
  fault: FaultRow,
  r: { readonly outcome: Outcome; readonly codes: readonly string[] },
  shouldOnly = false,
): boolean {
  const graded = r.outcome === 'FAIL' || (shouldOnly && r.outcome === 'NON_STRICT');
  return graded && r.codes.some((c) => fault.codes.includes(c));
}

export interface FaultVerdict {
  readonly fault: string;
  readonly area: string;
  readonly profile: CryptoProfileId;
  readonly caught: boolean;
  /** The tier that caught it, or undefined. */
  readonly tier?: Tier;
  /** `ID variant` of every run that caught it. */
  readonly caughtBy: readonly string[];
  /** Runs that ended in ERROR: a harness fault, never acceptable. */
  readonly errors: readonly string[];
  readonly runs: number;
  readonly ms: number;
}

export interface SelftestReport {
  readonly clean: {
    readonly runs: number;
    readonly ok: boolean;
    /** `ID variant profile: OUTCOME` of every run that was not clean. */
    readonly problems: readonly string[];
    readonly ms: number;
  };
  readonly faults: readonly FaultVerdict[];
  readonly detectionRate: number;
  /** Faults caught only by scenarios outside their area. */
  readonly caughtOutsideArea: readonly string[];
  readonly ok: boolean;
  readonly ms: number;
}

export function summariseSelftest(
  clean: SelftestReport['clean'],
  faults: readonly FaultVerdict[],
  ms: number,
): SelftestReport {
  const caught = faults.filter((f) => f.caught).length;
  const detectionRate = faults.length === 0 ? 0 : caught / faults.length;
  const errors = faults.some((f) => f.errors.length > 0);
  return {
    clean,
    faults,
    detectionRate,
    caughtOutsideArea: faults.filter((f) => f.tier === 'other').map((f) => f.fault),
    ok: clean.ok && caught === faults.length && !errors,
    ms,
  };
}
