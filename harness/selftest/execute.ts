// Runs scenarios against the in-process reference candidate with a set of faults switched on.
// After any run that is not clean the candidate and its server are opened afresh, so one
// fault's damage (a crashed stanza loop, a dropped identity) is seen by the scenario that
// provoked it and not blamed on every scenario after it.

import { ReferenceCandidate } from '../../fixtures/candidates/reference/driver.ts';
import { parseFaults } from '../../fixtures/candidates/reference/faults.ts';
import { inProcessDriver } from '../driver/in-process.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import type { ScenarioEnvironment } from '../scenario/environment.ts';
import { openEnvironment } from '../scenario/environment.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import type { Outcome } from '../scenario/runner.ts';
import { QUIET_OUTCOMES, runScenario } from '../scenario/runner.ts';

/** What the gate keeps of a result: no evidence, so a long run stays small. */
export interface SlimResult {
  readonly id: string;
  readonly variant: string;
  readonly profile: string;
  readonly outcome: Outcome;
  readonly codes: readonly string[];
  readonly reason?: string;
  readonly durationMs: number;
}

async function open(
  profile: CryptoProfileId,
  faults: readonly string[],
  seed: string,
): Promise<ScenarioEnvironment> {
  const candidate = new ReferenceCandidate({ profile, faults: parseFaults(faults, profile) });
  return openEnvironment({ driver: inProcessDriver(candidate), seed });
}

export async function runAgainst(opts: {
  readonly profile: CryptoProfileId;
  readonly faults: readonly string[];
  readonly scenarios: readonly LoadedScenario[];
  readonly seed: string;
}): Promise<SlimResult[]> {
  const out: SlimResult[] = [];
  let opened = 0;
  let env = await open(opts.profile, opts.faults, `${opts.seed}/${opened}`);
  try {
    for (const { scenario } of opts.scenarios) {
      for (const [name, variant] of variantsOf(scenario)) {
        const r = await runScenario(scenario, name, variant, env);
        out.push({
          id: r.id,
          variant: r.variant,
          profile: r.profile,
          outcome: r.outcome,
          codes: [...new Set(r.findings.map((f) => f.code))],
          ...(r.reason === undefined ? {} : { reason: r.reason.split('\n')[0] }),
          durationMs: r.durationMs,
        });
        if (!QUIET_OUTCOMES.has(r.outcome)) {
          await env.close();
          opened += 1;
          env = await open(opts.profile, opts.faults, `${opts.seed}/${opened}`);
        }
      }
    }
  } finally {
    await env.close();
  }
  return out;
}
