// `interop-cert run`: the scenarios against a candidate, outcomes printed as they come. This
// first version prints and exits (0 pass, 1 candidate failures, 3 harness error); the report
// files (results.jsonl, summary, JUnit, compliance.md) arrive with the report issue.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { HarnessError } from '../codes.ts';
import type { CandidateDriver } from '../driver/contract.ts';
import { DRIVER_CONTRACT_VERSION } from '../driver/contract.ts';
import { summarise } from '../report/summary.ts';
import type { RunMeta } from '../report/write.ts';
import { writeRun } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { CRYPTO_PROFILES } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import { openEnvironment } from '../scenario/environment.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { runScenario } from '../scenario/runner.ts';
import type { ExitCode, Io } from './main.ts';

function harnessVersion(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

export interface RunOptions {
  readonly reference?: boolean;
  readonly candidate?: string;
  readonly profile?: CryptoProfileId;
  readonly fault?: readonly string[];
  readonly filter?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly out?: string;
  readonly certify?: boolean;
  readonly evidence?: 'failures' | 'all';
}

/** `*` and `?` globs over scenario ids, e.g. `E2EE-*` or `MSG-TEXT-00?`. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const FAILING: ReadonlySet<Outcome> = new Set(['FAIL', 'TIMEOUT']);

export interface RunSummary {
  readonly results: readonly ScenarioResult[];
  readonly counts: Readonly<Record<Outcome, number>>;
}

/** Runs the selected scenarios against one driver (one profile); calls `onResult` as each ends. */
export async function runSuite(
  driver: CandidateDriver,
  scenarios: readonly LoadedScenario[],
  opts: { seed?: string; onResult?: (r: ScenarioResult) => void } = {},
): Promise<ScenarioResult[]> {
  const env = await openEnvironment({ driver, seed: opts.seed ?? 'run' });
  const results: ScenarioResult[] = [];
  try {
    for (const { scenario } of scenarios) {
      for (const [name, variant] of variantsOf(scenario)) {
        const r = await runScenario(scenario, name, variant, env);
        results.push(r);
        opts.onResult?.(r);
      }
    }
  } finally {
    await env.close();
  }
  return results;
}

function line(r: ScenarioResult): string {
  const head = `${r.outcome.padEnd(14)} ${r.id} ${r.variant} (${r.profile}) ${r.durationMs} ms`;
  const more = r.findings.map(
    (f) => `\n    ${f.level} ${f.code} ${f.requirement} at "${f.step}": ${f.message}`,
  );
  return `${head}${r.reason && r.outcome !== 'PASS' ? `\n    ${r.reason.split('\n')[0]}` : ''}${more.join('')}`;
}

export function registerRun(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('run')
    .description('run the scenarios against a candidate and print the outcomes')
    .option('--reference', 'the bundled reference candidate (in-process)')
    .option('--candidate <url>', "a candidate's driver base URL, e.g. http://127.0.0.1:7700")
    .addOption(
      new Option('--profile <p>', 'crypto profile of the reference candidate (default: both)').choices([
        ...CRYPTO_PROFILES,
      ]),
    )
    .option('--fault <name...>', 'switch on reference-candidate faults (repeatable)')
    .option('--filter <glob>', 'only scenarios whose id matches, e.g. E2EE-*')
    .option('--seed <s>', 'seed of the run', 'run')
    .option('--json', 'print one JSON result per line')
    .option('--out <dir>', 'write results.jsonl, summary.json, compliance.md and evidence/ there')
    .option('--certify', 'apply the certification rules: exit 0 only when certified')
    .addOption(
      new Option('--evidence <which>', 'wire evidence for failing runs or all runs')
        .choices(['failures', 'all'])
        .default('failures'),
    )
    .action(async (opts: RunOptions) => {
      if (!opts.reference === !opts.candidate) {
        throw new HarnessError('HRN_ERR_USAGE', 'give exactly one of --reference or --candidate URL');
      }
      if (opts.fault && !opts.reference)
        throw new HarnessError('HRN_ERR_USAGE', '--fault applies to --reference only');
      let scenarios = await loadScenarios();
      if (opts.filter) {
        const re = globToRegExp(opts.filter);
        scenarios = scenarios.filter((s) => re.test(s.scenario.id));
      }
      if (scenarios.length === 0)
        throw new HarnessError('HRN_ERR_USAGE', `no scenario matches ${opts.filter ?? ''}`);

      const catalogue = loadCatalogue();
      const results: ScenarioResult[] = [];
      const profiles: CryptoProfileId[] = [];
      const candidates: RunMeta['candidate'][number][] = [];
      const startedAt = new Date().toISOString();
      const write = (partial: boolean) => {
        if (!opts.out) return;
        const meta: RunMeta = {
          harnessVersion: harnessVersion(),
          contractVersion: DRIVER_CONTRACT_VERSION,
          candidate: candidates,
          seed: opts.seed ?? 'run',
          ...(opts.filter ? { filter: opts.filter } : {}),
          ...(opts.fault ? { faults: opts.fault } : {}),
          node: process.version,
          startedAt,
          ...(partial ? {} : { finishedAt: new Date().toISOString() }),
          partial,
        };
        const summary = summarise(results, catalogue, profiles);
        writeRun(opts.out, { results, summary, meta, catalogue, evidenceAll: opts.evidence === 'all' });
      };
      // Each result is written as it comes: a run cut short (a hung candidate, Ctrl-C) leaves a
      // valid report that says it is partial.
      const onResult = (r: ScenarioResult) => {
        results.push(r);
        io.out(opts.json ? JSON.stringify({ ...r, evidence: undefined }) : line(r));
        write(true);
      };
      const interrupted = () => {
        write(true);
        process.exit(130);
      };
      process.once('SIGINT', interrupted);
      try {
        if (opts.candidate) {
          const { createHttpDriver } = await import('../driver/client.ts');
          const { checkManifest } = await import('../driver/core.ts');
          const driver = createHttpDriver(opts.candidate);
          const manifest = await driver.manifest();
          checkManifest(manifest);
          profiles.push(manifest.cryptoProfile);
          candidates.push({
            name: manifest.name,
            version: manifest.version,
            profile: manifest.cryptoProfile,
          });
          await runSuite(driver, scenarios, { seed: opts.seed ?? 'run', onResult });
        } else {
          const { ReferenceCandidate } = await import('../../fixtures/candidates/reference/driver.ts');
          const { parseFaults } = await import('../../fixtures/candidates/reference/faults.ts');
          const { inProcessDriver } = await import('../driver/in-process.ts');
          for (const profile of opts.profile ? [opts.profile] : [...CRYPTO_PROFILES]) {
            let faults: ReturnType<typeof parseFaults>;
            try {
              faults = parseFaults(opts.fault ?? [], profile);
            } catch (e) {
              throw new HarnessError('HRN_ERR_USAGE', (e as Error).message);
            }
            const driver = inProcessDriver(new ReferenceCandidate({ profile, faults }));
            const manifest = await driver.manifest();
            profiles.push(profile);
            candidates.push({ name: manifest.name, version: manifest.version, profile });
            await runSuite(driver, scenarios, { seed: opts.seed ?? 'run', onResult });
          }
        }
      } finally {
        process.off('SIGINT', interrupted);
      }
      write(false);

      const counts: Record<string, number> = {};
      for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      if (!opts.json)
        io.out(
          Object.entries(counts)
            .map(([o, n]) => `${n} ${o}`)
            .join(', '),
        );
      const summary = summarise(results, catalogue, profiles);
      if (opts.out) io.out(`report: ${opts.out}/compliance.md`);
      if (opts.certify) {
        const c = summary.certification;
        io.out(
          `certification: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'} (${c.mustPassed}/${c.mustTotal} MUST requirements passed)`,
        );
        for (const reason of c.reasons) io.out(`  ${reason}`);
      }
      if (results.some((r) => r.outcome === 'ERROR')) setExit(3);
      else if (opts.certify) setExit(summary.certification.certified ? 0 : 1);
      else setExit(results.some((r) => FAILING.has(r.outcome)) ? 1 : 0);
    });
}
