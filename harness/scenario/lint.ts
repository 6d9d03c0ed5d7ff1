// The suite lint (part of npm test): scenario files are well formed, reference real
// requirements and features, and the catalogue's MUST requirements are covered.

import type { Catalogue, Requirement } from '../requirements/types.ts';
import { FEATURES } from '../requirements/types.ts';
import { areaOf, SCENARIO_ID } from './define.ts';
import type { LoadedScenario } from './loader.ts';

export interface LintReport {
  readonly problems: readonly string[];
  /** MUST requirements (not retired) with no scenario. */
  readonly uncovered: readonly Requirement[];
  readonly mustTotal: number;
  /** Requirement id -> ids of the scenarios that check it. */
  readonly coverage: ReadonlyMap<string, readonly string[]>;
}

export function lintScenarios(loaded: readonly LoadedScenario[], catalogue: Catalogue): LintReport {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const coverage = new Map<string, string[]>();
  for (const { file, scenario: s } of loaded) {
    const where = `${file}: ${s.id}`;
    if (!SCENARIO_ID.test(s.id)) problems.push(`${where}: id is not AREA-TOPIC-NNN`);
    const other = seen.get(s.id);
    if (other) problems.push(`${where}: id also used by ${other}`);
    seen.set(s.id, file);
    const parts = file.split('/');
    const name = parts.at(-1) ?? '';
    if (!name.startsWith(`${s.id}.`)) problems.push(`${where}: file name must start with the id`);
    const [area, topic] = s.id.split('-');
    if (parts[0] !== area?.toLowerCase() || parts[1] !== topic?.toLowerCase()) {
      problems.push(`${where}: must live in suites/${area?.toLowerCase()}/${topic?.toLowerCase()}/`);
    }
    if (s.requirements.length === 0) problems.push(`${where}: names no requirement`);
    for (const r of s.requirements) {
      const req = catalogue.byId(r);
      if (!req) problems.push(`${where}: unknown requirement ${r}`);
      else if (req.retired) problems.push(`${where}: requirement ${r} is retired`);
      const list = coverage.get(r) ?? [];
      list.push(s.id);
      coverage.set(r, list);
    }
    for (const f of s.features ?? []) {
      if (!(FEATURES as readonly string[]).includes(f)) problems.push(`${where}: unknown feature ${f}`);
    }
    // A scenario may be skipped for a missing feature only if every requirement it checks is optional.
    if ((s.features ?? []).length > 0) {
      const mandatory = s.requirements.filter((r) => catalogue.byId(r) && !catalogue.byId(r)?.feature);
      if (mandatory.length > 0) {
        problems.push(
          `${where}: needs features but checks mandatory ${mandatory.join(', ')}: a skip would hide them`,
        );
      }
    }
    if (areaOf(s.id) === '') problems.push(`${where}: no area`);
  }
  const musts = catalogue.requirements.filter((r) => r.level === 'MUST' && !r.retired);
  const uncovered = musts.filter((r) => !coverage.has(r.id));
  return { problems, uncovered, mustTotal: musts.length, coverage };
}
