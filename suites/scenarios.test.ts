// The one vitest entry of the conformance suites: every scenario file, once per variant and per
// crypto profile. Two ways in:
//
// - `npm test` (nothing provided): the suite's self-test against the reference candidate
//   (in-process driver; INTEROP_DRIVER=http drives it over real HTTP). The reference candidate
//   must pass every scenario: one that fails it is a harness bug or a wrong scenario.
// - `interop-cert run` (harness/cli/run.ts) provides `interopRun`: the candidate (the reference
//   with faults, or a driver URL), profiles, seed, id filter and shard. Each run's result goes
//   into its test's meta for the run's reporter, which writes the report.
//
// Tests are tagged by area, level and profile, so `--tags` selects through vitest's tag filter.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlannedRun, RunSettings } from '../harness/cli/run-context.ts';
import { globToRegExp, inShard } from '../harness/cli/run-context.ts';
import type { HarnessDriver } from '../harness/driver/core.ts';
import { keepsEvidence } from '../harness/report/results.ts';
import type { CryptoProfileId } from '../harness/requirements/types.ts';
import { CRYPTO_PROFILES } from '../harness/requirements/types.ts';
import type { AnyScenario } from '../harness/scenario/define.ts';
import { areaOf, variantsOf } from '../harness/scenario/define.ts';
import type { ScenarioEnvironment } from '../harness/scenario/environment.ts';
import { openEnvironment } from '../harness/scenario/environment.ts';
import { loadScenarios } from '../harness/scenario/loader.ts';
import type { Outcome, ScenarioResult } from '../harness/scenario/runner.ts';
import { runScenario } from '../harness/scenario/runner.ts';

const settings = inject('interopRun');
const profiles: readonly CryptoProfileId[] = settings?.profiles ?? CRYPTO_PROFILES;

// The self-test accepts only what the reference candidate must achieve; a run accepts anything
// that is not a failure, so vitest's own view agrees with the exit code.
const ACCEPTED: ReadonlySet<Outcome> = settings
  ? new Set(['PASS', 'NON_STRICT', 'INFORMATIONAL', 'NOT_APPLICABLE'])
  : new Set(['PASS', 'INFORMATIONAL', 'NOT_APPLICABLE']);

interface EntryRun extends PlannedRun {
  readonly scenario: AnyScenario;
  readonly variantValue: unknown;
}

let loaded = await loadScenarios();
if (settings?.filter) {
  const re = globToRegExp(settings.filter);
  loaded = loaded.filter((s) => re.test(s.scenario.id));
}
const planned: EntryRun[] = profiles.flatMap((profile) =>
  loaded.flatMap(({ scenario }) =>
    variantsOf(scenario).map(([variant, variantValue]) => ({
      id: scenario.id,
      variant,
      profile,
      level: scenario.level,
      requirements: scenario.requirements,
      scenario,
      variantValue,
    })),
  ),
);
const runs = inShard(planned, settings?.shard);

function explain(r: ScenarioResult): string {
  const lines = [`${r.id} [${r.variant}] ${r.profile}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`];
  for (const f of r.findings)
    lines.push(`  ${f.level} ${f.code} ${f.requirement} at "${f.step}": ${f.message}`);
  return lines.join('\n');
}

async function openDriver(run: RunSettings | undefined, profile: CryptoProfileId): Promise<HarnessDriver> {
  if (run?.candidate.kind === 'url') {
    const { createHttpDriver } = await import('../harness/driver/client.ts');
    return createHttpDriver(run.candidate.url);
  }
  const { ReferenceCandidate } = await import('../fixtures/candidates/reference/driver.ts');
  const { parseFaults } = await import('../fixtures/candidates/reference/faults.ts');
  const { inProcessDriver } = await import('../harness/driver/in-process.ts');
  const faults = parseFaults(run?.candidate.faults ?? [], profile);
  const candidate = new ReferenceCandidate({ profile, faults });
  if (process.env.INTEROP_DRIVER === 'http') {
    const { serveDriver } = await import('../harness/driver/serve.ts');
    const { createHttpDriver } = await import('../harness/driver/client.ts');
    const served = await serveDriver(candidate);
    const driver = createHttpDriver(served.url);
    return {
      ...driver,
      log: driver.log,
      async close() {
        await driver.close();
        await served.close();
      },
    };
  }
  return inProcessDriver(candidate);
}

for (const profile of profiles) {
  const mine = runs.filter((r) => r.profile === profile);
  if (mine.length === 0) continue;
  const who = settings?.candidate.kind === 'url' ? settings.candidate.url : 'reference candidate';
  describe(`${who}, ${profile}`, () => {
    let driver: HarnessDriver | undefined;
    let env: ScenarioEnvironment;
    beforeAll(async () => {
      driver = await openDriver(settings, profile);
      env = await openEnvironment({ driver, seed: settings?.seed ?? `suite-${profile}` });
    }, 60_000);
    afterAll(async () => {
      await env?.close();
      await driver?.close();
    });

    for (const run of mine) {
      const { scenario, variantValue, ...plannedRun } = run;
      it(`${run.id} ${run.variant}: ${scenario.title}`, {
        tags: [areaOf(run.id).toLowerCase(), run.level.toLowerCase(), profile],
        meta: { interopPlanned: plannedRun },
        timeout: (scenario.timeoutMs ?? 20_000) + 5_000,
      }, async (t) => {
        const log = driver?.log;
        const mark = log?.mark() ?? 0;
        const clockOffsetMs = env.server.clock.now() - Date.now();
        const r = await runScenario(scenario, run.variant, variantValue, env);
        if (settings) {
          const keep = keepsEvidence(r.outcome, settings.evidence);
          t.task.meta.interopRecord = {
            // Evidence nobody will write stays in the worker.
            result: keep ? r : { ...r, evidence: { transcript: [], events: [] } },
            manifest: env.candidate.manifest,
            driverLog: keep && log ? log.since(mark) : [],
            clockOffsetMs,
          };
        }
        // Reported as a skip, never as a pass: a green run must not hide what did not run.
        if (r.outcome === 'NOT_APPLICABLE') t.skip(r.reason);
        expect(ACCEPTED.has(r.outcome), explain(r)).toBe(true);
      });
    }
  });
}
