// certify: a full in-process certification of the reference candidate, timed from the outside.
//
// `node bin/interop-cert.js run --reference --certify --out <tmp>` runs as a child process,
// exactly as a vendor's CI would call it (the command line is the interface: nothing of the run
// command is imported). Measured: its wall time, and its peak resident set size as the kernel
// reports it (GNU time's "Maximum resident set size" when /usr/bin/time is there, else the
// high-water mark VmHWM of /proc/<pid>/status, read until the process ends). The run's
// scenarios, workers and report writing all live in that one process.
//
// Targets: under 30 s and under 500 MB (10^6 bytes; the kernel counts KiB). These are absolute: there is no baseline to run in the
// same process, so the figures are for this machine. The run's own verdict (exit code 0 when
// certified) is kept beside them; a run that is not certified still has a wall time, but it is
// reported, as a run cut short by the time limit is.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchOptions, Result, SuiteReport } from '../lib.ts';
import { boundResult, round } from '../lib.ts';

const WALL_TARGET_S = 30;
const RSS_TARGET_MB = 500;
/** A run still going after this long is stopped and reported as such. */
const LIMIT_MS = Number(process.env.BENCH_CERTIFY_LIMIT_MS ?? 300_000);
const GNU_TIME = '/usr/bin/time';

interface Outcome {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly rssSource: 'gnu-time' | 'proc-vmhwm';
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly lastLines: string;
}

function vmHwmBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone already
  }
}

function certify(root: string): Promise<Outcome> {
  const out = mkdtempSync(join(tmpdir(), 'interop-cert-bench-'));
  const command = [process.execPath, join(root, 'bin/interop-cert.js'), 'run', '--reference', '--certify'];
  const gnuTime = existsSync(GNU_TIME);
  const [file, ...args] = gnuTime ? [GNU_TIME, '-v', ...command, '--out', out] : [...command, '--out', out];
  const started = performance.now();
  const child = spawn(file as string, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    // A group of its own, so that a run over the limit is stopped with everything it started
    // (GNU time itself ignores SIGINT).
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout = (stdout + b.toString('utf8')).slice(-4000);
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-8000);
  });
  let hwm = 0;
  const poll = gnuTime
    ? undefined
    : setInterval(() => {
        hwm = Math.max(hwm, (child.pid && vmHwmBytes(child.pid)) || 0);
      }, 50);
  let timedOut = false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const limit = setTimeout(() => {
    timedOut = true;
    signal('SIGINT');
    setTimeout(() => signal('SIGKILL'), 10_000).unref();
  }, LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearTimeout(limit);
      if (poll) clearInterval(poll);
      rmSync(out, { recursive: true, force: true });
      const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      const exit = gnuTime ? Number(/Exit status: (\d+)/.exec(stderr)?.[1] ?? code) : code;
      resolve({
        seconds,
        peakRssBytes: kb ? Number(kb) * 1024 : hwm,
        rssSource: gnuTime ? 'gnu-time' : 'proc-vmhwm',
        exitCode: exit,
        timedOut,
        lastLines: stdout.trim().split('\n').slice(-3).join(' | '),
      });
    });
  });
}

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const o = await certify(opts.root);
  if (o.peakRssBytes === 0) throw new Error('no peak RSS for the certification run');
  const details = {
    exitCode: o.exitCode ?? -1,
    certified: o.exitCode === 0,
    timedOut: o.timedOut,
    rssSource: o.rssSource,
    lastLines: o.lastLines,
  };
  const results: Result[] = [
    boundResult('full certification, wall time', round(o.seconds, 1), WALL_TARGET_S, 's', details),
    boundResult('full certification, peak RSS', round(o.peakRssBytes / 1e6, 1), RSS_TARGET_MB, 'MB', details),
  ];
  return { results, corpus: { limitMs: LIMIT_MS } };
}
