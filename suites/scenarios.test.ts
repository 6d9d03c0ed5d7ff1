// The one vitest entry of the conformance suites: every scenario file, once per variant and per
// crypto profile, against the reference candidate (in-process driver by default; set
// INTEROP_DRIVER=http to drive it over real HTTP). The reference candidate must pass them all:
// a scenario that fails it is either a harness bug or a wrong scenario.
//
// `interop-cert run` (harness/cli) runs the same scenarios against any candidate; this entry is
// the suite's own self-test in `npm test`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceCandidate } from '../fixtures/candidates/reference/driver.ts';
import type { CandidateDriver } from '../harness/driver/contract.ts';
import { inProcessDriver } from '../harness/driver/in-process.ts';
import { CRYPTO_PROFILES } from '../harness/requirements/types.ts';
import { areaOf, variantsOf } from '../harness/scenario/define.ts';
import type { ScenarioEnvironment } from '../harness/scenario/environment.ts';
import { openEnvironment } from '../harness/scenario/environment.ts';
import { loadScenarios } from '../harness/scenario/loader.ts';
import type { ScenarioResult } from '../harness/scenario/runner.ts';
import { runScenario } from '../harness/scenario/runner.ts';

const scenarios = await loadScenarios();
const ACCEPTED = new Set(['PASS', 'INFORMATIONAL']);

function explain(r: ScenarioResult): string {
  const lines = [`${r.id} [${r.variant}] ${r.profile}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`];
  for (const f of r.findings)
    lines.push(`  ${f.level} ${f.code} ${f.requirement} at "${f.step}": ${f.message}`);
  return lines.join('\n');
}

for (const profile of CRYPTO_PROFILES) {
  describe(`reference candidate, ${profile}`, () => {
    let env: ScenarioEnvironment;
    beforeAll(async () => {
      const candidate = new ReferenceCandidate({ profile });
      let driver: CandidateDriver = inProcessDriver(candidate);
      if (process.env.INTEROP_DRIVER === 'http') {
        const { serveDriver } = await import('../harness/driver/serve.ts');
        const { createHttpDriver } = await import('../harness/driver/client.ts');
        const served = await serveDriver(candidate);
        driver = createHttpDriver(served.url);
      }
      env = await openEnvironment({ driver, seed: `suite-${profile}` });
    }, 60_000);
    afterAll(async () => {
      await env?.close();
    });

    for (const { scenario } of scenarios) {
      for (const [variantName, variant] of variantsOf(scenario)) {
        it(`${scenario.id} ${variantName}: ${scenario.title}`, {
          tags: [areaOf(scenario.id).toLowerCase(), scenario.level.toLowerCase(), profile],
          meta: { requirements: scenario.requirements.join(' ') } as never,
          timeout: (scenario.timeoutMs ?? 20_000) + 5_000,
        }, async (t) => {
          const r = await runScenario(scenario, variantName, variant, env);
          // Reported as a skip, never as a pass: a green run must not hide what did not run.
          if (r.outcome === 'NOT_APPLICABLE') t.skip(r.reason);
          expect(ACCEPTED.has(r.outcome), explain(r)).toBe(true);
        });
      }
    }
  });
}
