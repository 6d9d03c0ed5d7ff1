// One unit of the gate's work, run in a worker process or in the main one: the clean suite
// under one profile, or one fault through its tiers.

import { FAULTS } from '../../fixtures/candidates/reference/faults.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import { QUIET_OUTCOMES } from '../scenario/runner.ts';
import type { SlimResult } from './execute.ts';
import { runAgainst } from './execute.ts';
import type { FaultRow, FaultVerdict, SelftestReport, Tier } from './plan.ts';
import { catches, profileFor, TIERS, tiersFor } from './plan.ts';

export type Job =
  | { readonly kind: 'clean'; readonly profile: CryptoProfileId }
  | { readonly kind: 'fault'; readonly fault: string; readonly full: boolean };

export type JobResult =
  | { readonly kind: 'clean'; readonly profile: CryptoProfileId; readonly clean: SelftestReport['clean'] }
  | { readonly kind: 'fault'; readonly verdict: FaultVerdict };

const label = (r: SlimResult) => `${r.id} ${r.variant}`;

export async function runJob(job: Job, scenarios: readonly LoadedScenario[]): Promise<JobResult> {
  const started = Date.now();
  if (job.kind === 'clean') {
    const results = await runAgainst({ profile: job.profile, faults: [], scenarios, seed: `selftest-clean` });
    const problems = results
      .filter((r) => !QUIET_OUTCOMES.has(r.outcome))
      .map(
        (r) =>
          `${label(r)} ${r.profile}: ${r.outcome}${r.codes.length ? ` ${r.codes.join(' ')}` : ''}${r.reason ? ` (${r.reason})` : ''}`,
      );
    return {
      kind: 'clean',
      profile: job.profile,
      clean: { runs: results.length, ok: problems.length === 0, problems, ms: Date.now() - started },
    };
  }
  const fault: FaultRow | undefined = FAULTS.find((f) => f.name === job.fault);
  if (!fault) throw new Error(`unknown fault ${job.fault}`);
  const profile = profileFor(fault);
  const levels = new Map(loadCatalogue().requirements.map((r) => [r.id as string, r.level]));
  const shouldOnly = fault.requirements.every((r) => levels.get(r) === 'SHOULD');
  const tiers = tiersFor(fault, scenarios);
  const caughtBy: string[] = [];
  const errors: string[] = [];
  let tier: Tier | undefined;
  let runs = 0;
  for (const t of TIERS) {
    if (tiers[t].length === 0) continue;
    const results = await runAgainst({
      profile,
      faults: [fault.name],
      scenarios: tiers[t],
      seed: `selftest-${fault.name}-${t}`,
    });
    runs += results.length;
    const caught = results.filter((r) => catches(fault, r, shouldOnly)).map(label);
    errors.push(...results.filter((r) => r.outcome === 'ERROR').map((r) => `${label(r)}: ${r.reason ?? ''}`));
    caughtBy.push(...caught);
    if (caught.length > 0 && tier === undefined) tier = t;
    if (tier !== undefined && !job.full) break;
  }
  return {
    kind: 'fault',
    verdict: {
      fault: fault.name,
      area: fault.area,
      profile,
      caught: tier !== undefined,
      ...(tier === undefined ? {} : { tier }),
      caughtBy,
      errors,
      runs,
      ms: Date.now() - started,
    },
  };
}
