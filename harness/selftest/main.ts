// npm run selftest [-- --json] [--full] [--workers N] [--fault NAME...]: the fault-detection gate.
// Exit 0 when the clean suite passes in both profiles, every fault is caught and nothing is
// ERROR; 1 otherwise; 2 on a usage error. The report also goes to reports/selftest/latest.json.

import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { FAULTS } from '../../fixtures/candidates/reference/faults.ts';
import { CRYPTO_PROFILES } from '../requirements/types.ts';
import type { Job, JobResult } from './job.ts';
import type { FaultVerdict, SelftestReport } from './plan.ts';
import { summariseSelftest } from './plan.ts';

interface Options {
  readonly json?: boolean;
  readonly full?: boolean;
  readonly workers: number;
  readonly fault?: string[];
  readonly clean: boolean;
}

type Reply = { ready: true } | { ok: true; result: JobResult } | { ok: false; error: string };

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1');
  return n;
};

/** Runs the jobs over `n` worker processes, each taking the next job when it is free. */
async function pool(
  jobs: readonly Job[],
  n: number,
  done: (job: Job, r: JobResult | Error) => void,
): Promise<void> {
  const queue = [...jobs];
  const worker = (): Promise<void> =>
    new Promise((resolve) => {
      const child: ChildProcess = fork(new URL('./worker.ts', import.meta.url), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      let current: Job | undefined;
      const next = () => {
        current = queue.shift();
        if (current) child.send(current);
        else child.kill();
      };
      child.on('message', (m: Reply) => {
        if ('ready' in m) return next();
        if (current) done(current, m.ok ? m.result : new Error(m.error));
        next();
      });
      child.on('exit', (code) => {
        // A worker that died took its job with it: that job is a harness error, the rest go on.
        if (current) {
          done(current, new Error(`the worker exited with ${code} during the job`));
          current = undefined;
          if (queue.length > 0) return resolve(worker());
        }
        resolve();
      });
    });
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, () => worker()));
}

function print(report: SelftestReport, out: (s: string) => void): void {
  out('');
  out(
    `clean suite: ${report.clean.runs} runs, ${report.clean.ok ? 'all pass' : 'NOT CLEAN'} (${(report.clean.ms / 1000).toFixed(1)} s of work)`,
  );
  for (const p of report.clean.problems) out(`  ${p}`);
  out('');
  out('fault                          area     caught by');
  for (const f of report.faults) {
    const by = f.caught
      ? `${f.caughtBy.slice(0, 4).join(', ')}${f.caughtBy.length > 4 ? ` and ${f.caughtBy.length - 4} more` : ''}`
      : 'NOT CAUGHT';
    out(`${f.fault.padEnd(30)} ${f.area.padEnd(8)} ${by}${f.tier === 'other' ? '  (outside its area)' : ''}`);
    for (const e of f.errors) out(`    ERROR ${e}`);
  }
  const caught = report.faults.filter((f) => f.caught).length;
  out('');
  out(`detection rate: ${caught}/${report.faults.length} (${(report.detectionRate * 100).toFixed(1)}%)`);
  if (report.caughtOutsideArea.length > 0)
    out(`caught only outside their area: ${report.caughtOutsideArea.join(', ')}`);
  out(`wall time: ${(report.ms / 1000).toFixed(1)} s`);
  out(`selftest: ${report.ok ? 'PASS' : 'FAIL'}`);
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('selftest')
    .description('prove the suite: the clean reference candidate passes, every fault is caught')
    .option('--json', 'print the report as JSON')
    .option('--full', 'run every tier for every fault (the whole matrix; slower)')
    .option('--workers <n>', 'worker processes', positive, Math.max(1, Math.min(4, availableParallelism())))
    .option('--fault <name...>', 'only these faults')
    .option('--no-clean', 'skip the clean run')
    .exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
  } catch {
    return 2;
  }
  const opts = program.opts<Options>();
  const names = opts.fault ?? FAULTS.map((f) => f.name);
  const unknown = names.filter((n) => !FAULTS.some((f) => f.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown fault(s): ${unknown.join(', ')}\n`);
    return 2;
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const started = Date.now();
  const jobs: Job[] = [
    ...(opts.clean ? CRYPTO_PROFILES.map((profile) => ({ kind: 'clean', profile }) as const) : []),
    ...names.map((fault) => ({ kind: 'fault', fault, full: opts.full === true }) as const),
  ];
  const clean: { runs: number; ok: boolean; problems: string[]; ms: number } = {
    runs: 0,
    ok: true,
    problems: [],
    ms: 0,
  };
  const verdicts: FaultVerdict[] = [];
  let finished = 0;
  await pool(jobs, opts.workers, (job, r) => {
    finished += 1;
    const head = `[${finished}/${jobs.length}]`;
    if (r instanceof Error) {
      if (job.kind === 'clean') {
        clean.ok = false;
        clean.problems.push(`${job.profile}: HRN_ERR_INTERNAL ${r.message.split('\n')[0]}`);
      } else {
        const fault = FAULTS.find((f) => f.name === job.fault);
        verdicts.push({
          fault: job.fault,
          area: fault?.area ?? '?',
          profile: 'signal-pqxdh',
          caught: false,
          caughtBy: [],
          errors: [`HRN_ERR_INTERNAL ${r.message.split('\n')[0]}`],
          runs: 0,
          ms: 0,
        });
      }
      log(`${head} ${job.kind === 'clean' ? job.profile : job.fault}: HRN_ERR_INTERNAL`);
      return;
    }
    if (r.kind === 'clean') {
      clean.runs += r.clean.runs;
      clean.ok &&= r.clean.ok;
      clean.problems.push(...r.clean.problems);
      clean.ms += r.clean.ms;
      log(
        `${head} clean ${r.profile}: ${r.clean.runs} runs, ${r.clean.ok ? 'all pass' : `${r.clean.problems.length} not clean`}`,
      );
    } else {
      verdicts.push(r.verdict);
      const v = r.verdict;
      log(
        `${head} ${v.fault}: ${v.caught ? `caught by ${v.caughtBy.length} run(s) (${v.tier} tier)` : 'NOT CAUGHT'}, ${v.runs} runs, ${(v.ms / 1000).toFixed(1)} s`,
      );
    }
  });
  const order = new Map(names.map((n, i) => [n, i]));
  verdicts.sort((a, b) => (order.get(a.fault) ?? 0) - (order.get(b.fault) ?? 0));
  const report = summariseSelftest(clean, verdicts, Date.now() - started);
  mkdirSync('reports/selftest', { recursive: true });
  writeFileSync('reports/selftest/latest.json', `${JSON.stringify(report, null, 2)}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else print(report, (s) => process.stdout.write(`${s}\n`));
  return report.ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
