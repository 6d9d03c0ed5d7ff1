// `interop-cert replay DIR ID [--variant V] [--profile P]`: re-runs one scenario of a recorded run
// with the run's seed, candidate (the reference with its faults, or the driver URL) and profile,
// and prints its transcript, so a vendor can watch the failing case again without the whole run.
// The run picked is the first of that scenario in DIR/results.jsonl that did not pass (or the
// first at all), narrowed by --variant and --profile. Exit codes as `run`: 0 pass, 1 the
// candidate failed, 2 usage (no such run), 3 harness error.

import type { Command } from 'commander';
import { HarnessError } from '../codes.ts';
import type { CandidateDriver } from '../driver/contract.ts';
import type { ResultLine } from '../report/results.ts';
import { readResults } from '../report/results.ts';
import { readSummaryFile } from '../report/write.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import { openEnvironment } from '../scenario/environment.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import { QUIET_OUTCOMES, runScenario } from '../scenario/runner.ts';
import type { TranscriptEntry } from '../server/types.ts';
import type { ExitCode, Io } from './main.ts';

interface ReplayOptions {
  readonly variant?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** The recorded run to replay: the first failing one of `id`, else the first, narrowed by options. */
export function pickRun(
  lines: readonly ResultLine[],
  id: string,
  opts: ReplayOptions,
): ResultLine | undefined {
  const mine = lines.filter(
    (l) =>
      l.id === id &&
      (opts.variant === undefined || l.variant === opts.variant) &&
      (opts.profile === undefined || l.profile === opts.profile),
  );
  return mine.find((l) => !QUIET_OUTCOMES.has(l.outcome)) ?? mine[0];
}

/** One transcript entry as a line a person reads: direction, connection, address, stanza or event. */
export function transcriptLine(e: TranscriptEntry): string {
  if (e.kind === 'frame') {
    const arrow = e.direction === 'c2s' ? '>>' : '<<';
    return `${arrow} ${e.connection} ${e.address ?? '-'} ${e.stanza}`;
  }
  const codes = (e.violations ?? []).map((v) => v.code).join(' ');
  return `-- ${e.event}${e.address ? ` ${e.address}` : ''}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}${codes ? ` ${codes}` : ''}`;
}

async function driverFor(
  target: string,
  profile: CryptoProfileId,
  faults: readonly string[],
): Promise<CandidateDriver> {
  if (target !== 'reference') {
    const { createHttpDriver } = await import('../driver/client.ts');
    return createHttpDriver(target);
  }
  const { ReferenceCandidate } = await import('../../fixtures/candidates/reference/driver.ts');
  const { parseFaults } = await import('../../fixtures/candidates/reference/faults.ts');
  const { inProcessDriver } = await import('../driver/in-process.ts');
  let parsed: ReturnType<typeof parseFaults>;
  try {
    parsed = parseFaults(faults, profile);
  } catch (e) {
    throw new HarnessError('HRN_ERR_USAGE', (e as Error).message);
  }
  return inProcessDriver(new ReferenceCandidate({ profile, faults: parsed }));
}

function exitOf(r: ScenarioResult): ExitCode {
  if (r.outcome === 'ERROR') return 3;
  return r.outcome === 'FAIL' || r.outcome === 'TIMEOUT' ? 1 : 0;
}

export function registerReplay(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('replay')
    .description("re-run one scenario of a recorded run with the run's seed, candidate and faults")
    .argument('<dir>', 'the run directory (run --out DIR)')
    .argument('<id>', 'the scenario id, e.g. E2EE-REPLAY-001')
    .option('--variant <name>', 'which variant (default: the first that did not pass)')
    .option('--profile <p>', 'which crypto profile (default: the first that did not pass)')
    .option('--json', 'print the result and its transcript as JSON')
    .action(async (dir: string, id: string, opts: ReplayOptions) => {
      let lines: ResultLine[];
      let meta: ReturnType<typeof readSummaryFile>['meta'];
      try {
        lines = readResults(dir);
        meta = readSummaryFile(dir).meta;
      } catch (e) {
        throw new HarnessError('HRN_ERR_USAGE', `${dir} is not a run directory: ${(e as Error).message}`);
      }
      const recorded = pickRun(lines, id, opts);
      if (!recorded) {
        throw new HarnessError(
          'HRN_ERR_USAGE',
          `${dir} holds no run of ${id}${opts.variant ? ` ${opts.variant}` : ''}${opts.profile ? ` under ${opts.profile}` : ''}`,
        );
      }
      const loaded = (await loadScenarios()).find((s) => s.scenario.id === id);
      if (!loaded) throw new HarnessError('HRN_ERR_USAGE', `no scenario ${id} in this harness`);
      const variant = variantsOf(loaded.scenario).find(([name]) => name === recorded.variant);
      if (!variant)
        throw new HarnessError('HRN_ERR_USAGE', `${id} has no variant ${recorded.variant} any more`);
      const profile = recorded.profile as CryptoProfileId;
      const target = meta.target ?? 'reference';
      const faults = meta.faults ?? [];
      if (!opts.json) {
        io.out(
          `replaying ${id} ${recorded.variant} (${profile}) against ${target}${faults.length ? ` with ${faults.join(' ')}` : ''}, seed ${meta.seed}; recorded: ${recorded.outcome}`,
        );
      }
      const driver = await driverFor(target, profile, faults);
      const env = await openEnvironment({ driver, seed: meta.seed });
      let r: ScenarioResult;
      try {
        r = await runScenario(loaded.scenario, variant[0], variant[1], env);
      } finally {
        await env.close();
      }
      if (opts.json) {
        io.out(JSON.stringify({ recorded: recorded.outcome, ...r }));
      } else {
        for (const e of r.evidence.transcript) io.out(transcriptLine(e));
        for (const e of r.evidence.events) io.out(`** candidate ${JSON.stringify(e)}`);
        io.out(
          `${r.outcome} ${id} ${r.variant} (${profile}) ${r.durationMs} ms${r.reason ? `: ${r.reason.split('\n')[0]}` : ''}`,
        );
        for (const f of r.findings)
          io.out(`  ${f.level} ${f.code} ${f.requirement} at "${f.step}": ${f.message}`);
      }
      setExit(exitOf(r));
    });
}
