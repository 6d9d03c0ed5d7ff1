// `interop-cert run`: the scenarios against a candidate, on vitest's Node API. The command starts
// vitest in this process on the suite's one entry (suites/scenarios.test.ts) with the run's
// reporter; the entry learns the candidate, seed, id filter and shard through vitest's
// `provide`, runs in one worker thread, and hands each scenario run back in its test's meta. The
// reporter writes the report as results come, so a run cut short (a hung candidate, Ctrl-C)
// leaves a valid partial report. `--tags` is vitest's own tag filter over the entry's tags.
//
// Exit codes (docs/CLI.md): 0 pass, 1 candidate failures (or not certified with --certify),
// 2 usage error, 3 harness error; 130 when interrupted.

import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Option } from 'commander';
import { HarnessError } from '../codes.ts';
import type { Manifest } from '../driver/contract.ts';
import { DRIVER_CONTRACT_VERSION } from '../driver/contract.ts';
import type { CandidateInfo, RunMeta } from '../report/run-meta.ts';
import { candidateInfo } from '../report/run-meta.ts';
import type { Summary } from '../report/summary.ts';
import { summarise } from '../report/summary.ts';
import type { WaiverOutcome, WaiverSet } from '../report/waivers.ts';
import { applyWaivers, exitCode, loadWaivers, waiverLines } from '../report/waivers.ts';
import { RunWriter } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { AREAS, CRYPTO_PROFILES, REQUIREMENT_LEVELS } from '../requirements/types.ts';
import type { AnyScenario } from '../scenario/define.ts';
import { loadScenarios, scenarioFiles } from '../scenario/loader.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import type { ExitCode, Io } from './main.ts';
import type { Progress } from './progress.ts';
import { barProgress, interactive, plainProgress } from './progress.ts';
import type { RunRecord, RunSettings, Shard } from './run-context.ts';
import { globToRegExp, parseShard } from './run-context.ts';
import { RunReporter } from './run-reporter.ts';

export { globToRegExp } from './run-context.ts';

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = 'suites/scenarios.test.ts';

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
  readonly tags?: string;
  readonly shard?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly out?: string;
  readonly certify?: boolean;
  readonly evidence?: 'failures' | 'all';
  readonly waivers?: string;
  /** Ed25519 key (PKCS#8 PEM) that signs the report; else INTEROP_CERT_KEY or the installation's. */
  readonly key?: string;
  /** False with --no-html: no report.html. */
  readonly html?: boolean;
}

/** The tags the entry gives its tests; vitest refuses a tag filter naming any other. */
export const SCENARIO_TAGS: readonly { name: string; description: string }[] = [
  ...AREAS.map((a) => ({ name: a.toLowerCase(), description: `scenarios of the ${a} area` })),
  ...REQUIREMENT_LEVELS.map((l) => ({ name: l.toLowerCase(), description: `scenarios asserting ${l}` })),
  ...CRYPTO_PROFILES.map((p) => ({ name: p, description: `runs under ${p}` })),
];

/** Refuses a tag expression that is empty or names a tag the entry does not give (usage, not harness). */
export function checkTags(expr: string): void {
  const words = expr.split(/[\s()!&|]+/).filter((w) => w !== '' && !['and', 'or', 'not'].includes(w));
  if (words.length === 0)
    throw new HarnessError('HRN_ERR_USAGE', '--tags needs an expression, e.g. "e2ee and must"');
  const names = SCENARIO_TAGS.map((t) => t.name);
  for (const w of words) {
    const re = globToRegExp(w);
    if (!names.some((n) => re.test(n))) {
      throw new HarnessError('HRN_ERR_USAGE', `--tags: no tag "${w}"; the tags are ${names.join(', ')}`);
    }
  }
}

/**
 * The exit code of a run: 3 for anything that makes the run itself unreliable (a harness error, a
 * run that never reported); otherwise as the waiver rules say (DESIGN.md): the certification
 * verdict with --certify, else 1 for a FAIL or TIMEOUT no waiver covers.
 */
export function runExitCode(
  results: readonly ScenarioResult[],
  run: {
    harnessErrors: readonly string[];
    partial: boolean;
    waivers?: WaiverOutcome | undefined;
    certified?: boolean | undefined;
  },
): ExitCode {
  if (run.harnessErrors.length > 0 || run.partial) return 3;
  return exitCode(results, run.waivers, run.certified === undefined ? {} : { certified: run.certified });
}

/**
 * Loads the waiver file before anything runs, so an expired waiver, an unknown id or (with
 * --certify) a waiver on a MUST requirement is refused at once, as a usage error.
 */
async function checkedWaivers(
  path: string,
  opts: { catalogue: ReturnType<typeof loadCatalogue>; certify: boolean; now: Date },
): Promise<{ set: WaiverSet; scenarios: readonly AnyScenario[] }> {
  const scenarios = (await loadScenarios()).map((s) => s.scenario);
  try {
    const set = loadWaivers(path, {
      catalogue: opts.catalogue,
      scenarioIds: scenarios.map((s) => s.id),
      now: opts.now,
    });
    applyWaivers([], set, { catalogue: opts.catalogue, certify: opts.certify, scenarios });
    return { set, scenarios };
  } catch (e) {
    if (e instanceof HarnessError && e.code.startsWith('HRN_ERR_WAIVER_')) {
      throw new HarnessError('HRN_ERR_USAGE', e.message);
    }
    throw e;
  }
}

/** Scenario ids from the file names (`<ID>.<slug>.scenario.ts`), without loading any scenario. */
function scenarioIds(): string[] {
  return scenarioFiles().map((f) => basename(f).split('.')[0] ?? '');
}

interface Target {
  readonly settings: RunSettings['candidate'];
  readonly profiles: readonly CryptoProfileId[];
  readonly candidates: readonly CandidateInfo[];
  readonly name: string;
}

async function resolveTarget(opts: RunOptions): Promise<Target> {
  if (!opts.reference === !opts.candidate) {
    throw new HarnessError('HRN_ERR_USAGE', 'give exactly one of --reference or --candidate URL');
  }
  if (opts.candidate) {
    if (opts.fault?.length) throw new HarnessError('HRN_ERR_USAGE', '--fault applies to --reference only');
    const { createHttpDriver } = await import('../driver/client.ts');
    const { checkManifest } = await import('../driver/core.ts');
    const driver = createHttpDriver(opts.candidate);
    let manifest: Manifest;
    try {
      manifest = await driver.manifest();
    } finally {
      await driver.close();
    }
    checkManifest(manifest);
    if (opts.profile && opts.profile !== manifest.cryptoProfile) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `--profile ${opts.profile}, but the candidate's manifest declares ${manifest.cryptoProfile}`,
      );
    }
    return {
      settings: { kind: 'url', url: opts.candidate },
      profiles: [manifest.cryptoProfile],
      candidates: [candidateInfo(manifest)],
      name: opts.candidate,
    };
  }
  const profiles = opts.profile ? [opts.profile] : [...CRYPTO_PROFILES];
  const faults = opts.fault ?? [];
  const { parseFaults } = await import('../../fixtures/candidates/reference/faults.ts');
  for (const p of profiles) {
    try {
      parseFaults(faults, p);
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `${(e as Error).message}${opts.profile ? '' : ' (choose the profile with --profile)'}`,
      );
    }
  }
  return { settings: { kind: 'reference', faults }, profiles, candidates: [], name: 'reference' };
}

export interface RunOutcome {
  readonly results: readonly ScenarioResult[];
  readonly summary: Summary;
  readonly planned: number;
  readonly harnessErrors: readonly string[];
  readonly partial: boolean;
}

/**
 * Runs the entry under vitest with `settings`; calls `onRecord` as each scenario run ends. Vitest
 * reports a test's meta from its worker; the candidate lives in that worker, so nothing of it
 * needs to cross to this process but the records.
 */
export async function runInVitest(
  settings: RunSettings,
  hooks: {
    tags?: string;
    planned(total: number): void;
    record(r: RunRecord): void;
    harnessError(message: string): void;
  },
): Promise<void> {
  const { startVitest } = await import('vitest/node');
  const reporter = new RunReporter(hooks);
  // Vitest sets process.exitCode for failing tests; the run decides its own exit code.
  const exitCode = process.exitCode;
  try {
    await startVitest(
      'test',
      [],
      {
        root: PACKAGE_ROOT,
        config: false,
        include: [ENTRY],
        watch: false,
        reporters: [reporter],
        // One worker thread: the entry opens one environment per profile in beforeAll and runs
        // the scenarios one after another, as the candidate sees one user's app.
        pool: 'threads',
        maxWorkers: 1,
        fileParallelism: false,
        cache: false,
        passWithNoTests: true,
        provide: { interopRun: settings },
        tags: [...SCENARIO_TAGS],
        ...(hooks.tags ? { tagsFilter: [hooks.tags] } : {}),
      },
      undefined,
    );
  } finally {
    process.exitCode = exitCode;
  }
}

export function registerRun(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('run')
    .description('run the scenarios against a candidate; write the report with --out')
    .option('--reference', 'the bundled reference candidate (in-process)')
    .option('--candidate <url>', "a candidate's driver base URL, e.g. http://127.0.0.1:7700")
    .addOption(
      new Option('--profile <p>', 'crypto profile of the reference candidate (default: both)').choices([
        ...CRYPTO_PROFILES,
      ]),
    )
    .option('--fault <name...>', 'switch on reference-candidate faults (repeatable)')
    .option('--filter <glob>', 'only scenarios whose id matches, e.g. E2EE-*')
    .option('--tags <expr>', 'only tests whose tags match, e.g. "e2ee and must" (tags: area, level, profile)')
    .option('--shard <i/n>', 'run shard i of n (join the shards with merge)')
    .option('--seed <s>', 'seed of the run', 'run')
    .option('--json', 'print one JSON result per line')
    .option('--out <dir>', 'write the report there (results.jsonl, summary.json, compliance.md, ...)')
    .option('--certify', 'apply the certification rules: exit 0 only when certified')
    .addOption(
      new Option('--evidence <which>', 'wire evidence and driver log for failing runs or all runs')
        .choices(['failures', 'all'])
        .default('failures'),
    )
    .option('--waivers <file>', 'known failures that do not fail the exit code (docs/WAIVERS.md)')
    .option('--key <path>', 'Ed25519 private key (PKCS#8 PEM) that signs the report (docs/SIGNING.md)')
    .option('--no-html', 'skip report.html (the single-file Allure report; it needs Java)')
    .action(async (opts: RunOptions) => {
      let shard: Shard | undefined;
      if (opts.shard) {
        try {
          shard = parseShard(opts.shard);
        } catch (e) {
          throw new HarnessError('HRN_ERR_USAGE', (e as Error).message);
        }
      }
      if (opts.filter) {
        const re = globToRegExp(opts.filter);
        if (!scenarioIds().some((id) => re.test(id)))
          throw new HarnessError('HRN_ERR_USAGE', `no scenario matches ${opts.filter}`);
      }
      if (opts.tags !== undefined) checkTags(opts.tags);
      const target = await resolveTarget(opts);
      const catalogue = loadCatalogue();
      const seed = opts.seed ?? 'run';
      const evidence = opts.evidence ?? 'failures';
      const startedAt = new Date();
      const waiverSet = opts.waivers
        ? await checkedWaivers(opts.waivers, { catalogue, certify: opts.certify === true, now: startedAt })
        : undefined;

      const meta: Omit<RunMeta, 'partial' | 'finishedAt' | 'interrupted'> = {
        harnessVersion: harnessVersion(),
        contractVersion: DRIVER_CONTRACT_VERSION,
        candidate: target.candidates,
        target: target.name,
        ...(opts.fault?.length ? { faults: opts.fault } : {}),
        seed,
        ...(opts.filter ? { filter: opts.filter } : {}),
        ...(opts.tags ? { tags: opts.tags } : {}),
        ...(shard ? { shard } : {}),
        certify: opts.certify === true,
        evidence,
        node: process.version,
        startedAt: startedAt.toISOString(),
      };
      const writer = opts.out
        ? new RunWriter(resolve(opts.out), { meta, catalogue, profiles: target.profiles })
        : undefined;
      writer?.start();
      const progress: Progress = interactive(opts) ? barProgress() : plainProgress(io, opts);

      const results: ScenarioResult[] = [];
      const harnessErrors: string[] = [];
      let planned = 0;
      const interrupted = (signal: NodeJS.Signals) => {
        // Synchronous to the end: the process exits right after.
        progress.stop();
        writer?.interrupt();
        io.err(`${signal}: stopped after ${results.length} of ${planned} runs`);
        if (opts.out) io.err(`partial report: ${opts.out}/compliance.md`);
        process.exit(130);
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      try {
        await runInVitest(
          {
            candidate: target.settings,
            profiles: target.profiles,
            seed,
            ...(opts.filter ? { filter: opts.filter } : {}),
            ...(shard ? { shard } : {}),
            evidence,
          },
          {
            ...(opts.tags ? { tags: opts.tags } : {}),
            planned(total) {
              planned = total;
              progress.planned(total);
            },
            record(rec) {
              results.push(rec.result);
              progress.result(rec.result);
              writer?.add(rec);
            },
            harnessError(message) {
              harnessErrors.push(message);
            },
          },
        );
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
        progress.stop();
      }
      for (const m of harnessErrors) io.err(m);
      // An empty shard of a small selection is normal in CI; an empty selection is a mistake.
      if (!shard && harnessErrors.length === 0 && planned === 0 && results.length === 0) {
        throw new HarnessError(
          'HRN_ERR_USAGE',
          `no scenario run matches${opts.filter ? ` --filter ${opts.filter}` : ''}${opts.tags ? ` --tags "${opts.tags}"` : ''}${shard ? ` in shard ${opts.shard}` : ''}`,
        );
      }
      // Runs that never reported (a worker that died) leave the run unfinished.
      const partial = results.length < planned;
      const waivers = waiverSet
        ? applyWaivers(results, waiverSet.set, {
            catalogue,
            certify: opts.certify === true,
            scenarios: waiverSet.scenarios,
          })
        : undefined;
      const summary = writer
        ? await writer.finish({
            partial,
            ...(waivers ? { waivers } : {}),
            finish: {
              html: opts.html !== false,
              ...(opts.key ? { keyPath: opts.key } : {}),
              notice: opts.json ? io.err : io.out,
            },
          })
        : summarise(results, catalogue, target.profiles);

      // With --json, stdout holds the result lines alone; the closing lines go to stderr.
      const say = opts.json ? io.err : io.out;
      const counts = Object.entries(summary.counts).filter(([, n]) => n > 0);
      say(counts.map(([o, n]) => `${n} ${o}`).join(', ') || 'no runs');
      if (partial) io.err(`PARTIAL: ${results.length} of ${planned} runs reported`);
      if (opts.out) say(`report: ${opts.out}/compliance.md`);
      if (opts.certify) {
        const c = summary.certification;
        say(
          `certification: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'} (${c.mustPassed}/${c.mustTotal} MUST requirements passed)`,
        );
        for (const reason of c.reasons) say(`  ${reason}`);
      }
      if (waivers) for (const l of waiverLines(waivers)) say(`waiver ${l}`);
      setExit(
        runExitCode(results, {
          harnessErrors,
          partial,
          waivers,
          certified: opts.certify ? summary.certification.certified : undefined,
        }),
      );
    });
}
