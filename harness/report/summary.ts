// From scenario results to verdicts: per requirement, per area, and the certification verdict
// (DESIGN.md): every MUST requirement of the profile covered by a scenario that ran and passed,
// no ERROR anywhere. A skip never counts as a pass; a requirement no scenario checks is a gap.

import type { Catalogue, CryptoProfileId, Requirement } from '../requirements/types.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';

/** How every file of a report names a scenario run. */
export function runKey(r: {
  readonly id: string;
  readonly variant: string;
  readonly profile: string;
}): string {
  return `${r.id} ${r.variant} ${r.profile}`;
}

/** What the verdicts need of a run: everything but its evidence. */
export type GradedRun = Omit<ScenarioResult, 'evidence'>;

export type RequirementVerdict = 'PASS' | 'FAIL' | 'NON_STRICT' | 'NOT_TESTED' | 'NOT_APPLICABLE' | 'ERROR';

export interface RequirementRow {
  readonly id: string;
  readonly level: Requirement['level'];
  readonly area: string;
  readonly verdict: RequirementVerdict;
  /** Scenario runs (`ID variant profile`) selected to check it, those that did not apply included. */
  readonly scenarios: readonly string[];
  readonly codes: readonly string[];
}

export interface Summary {
  readonly profiles: readonly CryptoProfileId[];
  readonly counts: Readonly<Record<Outcome, number>>;
  readonly requirements: readonly RequirementRow[];
  readonly areas: Readonly<Record<string, RequirementVerdict>>;
  /**
   * The coverage matrix: requirement -> scenario run that ran (`ID variant profile`) -> its
   * outcome. A requirement with no entry was not checked by any run that ran.
   */
  readonly coverage: Readonly<Record<string, Readonly<Record<string, Outcome>>>>;
  readonly certification: {
    readonly certified: boolean;
    readonly reasons: readonly string[];
    readonly mustTotal: number;
    readonly mustPassed: number;
  };
}

export const OUTCOMES: readonly Outcome[] = [
  'PASS',
  'FAIL',
  'NON_STRICT',
  'INFORMATIONAL',
  'NOT_APPLICABLE',
  'TIMEOUT',
  'ERROR',
];

function verdictOf(
  req: Requirement,
  runs: readonly GradedRun[],
): { verdict: RequirementVerdict; codes: string[] } {
  if (runs.length === 0) return { verdict: 'NOT_TESTED', codes: [] };
  const codes = [
    ...new Set(runs.flatMap((r) => r.findings.filter((f) => f.requirement === req.id).map((f) => f.code))),
  ];
  // A run failed this requirement when it failed and either named it or named nothing.
  const failed = runs.some(
    (r) =>
      (r.outcome === 'FAIL' || r.outcome === 'TIMEOUT') &&
      (r.findings.length === 0 || r.findings.some((f) => f.requirement === req.id && f.level === 'MUST')),
  );
  if (failed) return { verdict: 'FAIL', codes };
  if (runs.some((r) => r.outcome === 'ERROR')) return { verdict: 'ERROR', codes };
  if (runs.some((r) => r.outcome === 'NON_STRICT' && r.findings.some((f) => f.requirement === req.id))) {
    return { verdict: 'NON_STRICT', codes };
  }
  const ran = runs.filter((r) => r.outcome !== 'NOT_APPLICABLE');
  if (ran.length === 0) return { verdict: 'NOT_APPLICABLE', codes };
  return { verdict: 'PASS', codes };
}

export function summarise(
  results: readonly GradedRun[],
  catalogue: Catalogue,
  profiles: readonly CryptoProfileId[],
): Summary {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const r of results) counts[r.outcome] += 1;
  const live = catalogue.requirements.filter(
    (r) => !r.retired && r.profiles.some((p) => profiles.includes(p)),
  );
  const coverage: Record<string, Record<string, Outcome>> = {};
  const rows: RequirementRow[] = live.map((req) => {
    const runs = results.filter(
      (r) => r.requirements.includes(req.id) && req.profiles.includes(r.profile as CryptoProfileId),
    );
    const ran = runs.filter((r) => r.outcome !== 'NOT_APPLICABLE');
    if (ran.length > 0) coverage[req.id] = Object.fromEntries(ran.map((r) => [runKey(r), r.outcome]));
    const { verdict, codes } = verdictOf(req, runs);
    return { id: req.id, level: req.level, area: req.area, verdict, scenarios: runs.map(runKey), codes };
  });
  const areas: Record<string, RequirementVerdict> = {};
  const rank: RequirementVerdict[] = ['ERROR', 'FAIL', 'NOT_TESTED', 'NON_STRICT', 'NOT_APPLICABLE', 'PASS'];
  for (const row of rows) {
    const cur = areas[row.area];
    if (!cur || rank.indexOf(row.verdict) < rank.indexOf(cur)) areas[row.area] = row.verdict;
  }
  const musts = rows.filter((r) => r.level === 'MUST');
  const reasons: string[] = [];
  const errors = results.filter((r) => r.outcome === 'ERROR').length;
  if (errors > 0)
    reasons.push(`${errors} scenario run(s) ended in ERROR (a harness error invalidates certification)`);
  const failed = musts.filter((r) => r.verdict === 'FAIL');
  if (failed.length > 0)
    reasons.push(`${failed.length} MUST requirement(s) failed: ${failed.map((r) => r.id).join(', ')}`);
  const untested = musts.filter((r) => r.verdict === 'NOT_TESTED' || r.verdict === 'NOT_APPLICABLE');
  if (untested.length > 0)
    reasons.push(`${untested.length} MUST requirement(s) not covered by a passing scenario`);
  return {
    profiles,
    counts,
    requirements: rows,
    areas,
    coverage,
    certification: {
      certified: reasons.length === 0,
      reasons,
      mustTotal: musts.length,
      mustPassed: musts.filter((r) => r.verdict === 'PASS').length,
    },
  };
}
