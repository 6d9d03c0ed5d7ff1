// `interop-cert merge DIR... --out OUT`: joins the shards of a sharded run (`run --shard i/n` on
// several CI machines) into one run directory with one verdict, as if the run had not been
// split: the same results.jsonl, summary.json and compliance.md, and every shard's evidence.

import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { HarnessError } from '../codes.ts';
import type { MergedRun } from '../report/merge.ts';
import { mergeRuns, resultLine } from '../report/merge.ts';
import { runKey, summarise } from '../report/summary.ts';
import type { WaiverOutcome } from '../report/waivers.ts';
import { applyWaivers, exitCode, loadWaivers, waiverLines } from '../report/waivers.ts';
import { evidencePath, rebuildReport, writeRun } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { CRYPTO_PROFILES } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import type { LoadedScenario } from '../scenario/loader.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { ExitCode, Io } from './main.ts';

export interface MergeOptions {
  readonly out: string;
  readonly waivers?: string;
  readonly certify?: boolean;
}

/** Run keys in the order an unsharded run makes them: profile, then scenario file, then variant. */
export function runOrder(
  scenarios: readonly LoadedScenario[],
  profiles: readonly CryptoProfileId[] = CRYPTO_PROFILES,
): string[] {
  return profiles.flatMap((profile) =>
    scenarios.flatMap(({ scenario }) =>
      variantsOf(scenario).map(([variant]) => runKey({ id: scenario.id, variant, profile })),
    ),
  );
}

function atomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function emptyOrNew(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new HarnessError('HRN_ERR_USAGE', `--out ${dir}: ${(e as Error).message}`);
  }
}

/** Writes the merged run: the report files by writeRun, then the shards' own lines and evidence. */
async function writeMerged(
  out: string,
  merged: MergedRun,
  summary: ReturnType<typeof summarise>,
  waivers: WaiverOutcome | undefined,
  notice: (line: string) => void,
): Promise<void> {
  const catalogue = loadCatalogue();
  writeRun(out, { results: merged.results, summary, meta: merged.meta, catalogue });
  // writeRun writes evidence from each result, and merged results carry none: the shards' files
  // replace what it wrote, byte for byte; what it wrote that no shard had is removed.
  const copied = new Set(merged.evidenceFiles.map((e) => e.to));
  for (const e of merged.evidenceFiles) {
    const to = join(out, ...e.to.split('/'));
    mkdirSync(dirname(to), { recursive: true });
    const tmp = `${to}.tmp-${process.pid}`;
    copyFileSync(e.from, tmp);
    renameSync(tmp, to);
  }
  for (const r of merged.results) {
    const made = evidencePath(r).split(/[\\/]/).join('/');
    if (!copied.has(made)) rmSync(join(out, made), { force: true });
  }
  const lines = merged.results.map(resultLine);
  atomic(join(out, 'results.jsonl'), lines.length > 0 ? `${lines.join('\n')}\n` : '');
  // Now that the evidence is in place, every derived file is made from the merged record, as a
  // run makes it: wire excerpts, the waiver outcome, Allure, report.html and the signature last.
  await rebuildReport(out, {
    catalogue,
    meta: merged.meta,
    profiles: merged.profiles,
    ...(waivers ? { waivers } : {}),
    finish: { notice },
  });
}

async function merge(dirs: string[], opts: MergeOptions, io: Io): Promise<ExitCode> {
  if (!emptyOrNew(opts.out)) {
    throw new HarnessError('HRN_ERR_USAGE', `--out ${opts.out} is not empty: give a new or empty directory`);
  }
  const scenarios = await loadScenarios();
  const merged = mergeRuns(dirs, { order: runOrder(scenarios) });
  const catalogue = loadCatalogue();
  const summary = summarise(merged.results, catalogue, merged.profiles);

  let waivers: WaiverOutcome | undefined;
  if (opts.waivers) {
    // Expiry is judged on the day the run started, not the day its shards were joined.
    const started = new Date(merged.meta.startedAt);
    const set = loadWaivers(opts.waivers, {
      catalogue,
      scenarioIds: scenarios.map((s) => s.scenario.id),
      now: Number.isNaN(started.getTime()) ? new Date() : started,
    });
    waivers = applyWaivers(merged.results, set, {
      catalogue,
      certify: opts.certify === true,
      scenarios: scenarios.map((s) => s.scenario),
    });
  }
  await writeMerged(opts.out, merged, summary, waivers, (line) => io.out(line));

  io.out(`merged ${merged.meta.shards} shard(s): ${merged.results.length} scenario runs`);
  io.out(
    Object.entries(summary.counts)
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${n} ${o}`)
      .join(', '),
  );
  if (merged.meta.partial) io.out('PARTIAL: at least one shard did not finish');
  const c = summary.certification;
  if (opts.certify) {
    io.out(
      `certification: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'} (${c.mustPassed}/${c.mustTotal} MUST requirements passed)`,
    );
    for (const reason of c.reasons) io.out(`  ${reason}`);
  }
  if (waivers) for (const l of waiverLines(waivers)) io.out(`waiver ${l}`);
  io.out(`report: ${join(opts.out, 'compliance.md')}`);
  return exitCode(merged.results, waivers, opts.certify ? { certified: c.certified } : {});
}

/** Refused inputs (the shards, the waiver file) are the caller's to fix: a usage error. */
function refusedInput(e: unknown): e is HarnessError {
  return e instanceof HarnessError && /^HRN_ERR_(MERGE|WAIVER)_/.test(e.code);
}

export function registerMerge(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('merge')
    .description('join the run directories of a sharded run (run --shard i/n) into one run')
    .argument('<dirs...>', 'the shard run directories, one per shard')
    .requiredOption('--out <dir>', 'where to write the merged run (a new or empty directory)')
    .option('--waivers <file>', 'apply a waiver file to the merged results (docs/WAIVERS.md)')
    .option('--certify', 'apply the certification rules: exit 0 only when certified')
    .action(async (dirs: string[], opts: MergeOptions) => {
      try {
        setExit(await merge(dirs, opts, io));
      } catch (e) {
        if (!refusedInput(e)) throw e;
        io.err(e.message);
        setExit(2);
      }
    });
}
