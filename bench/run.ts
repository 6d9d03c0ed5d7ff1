// `npm run bench [-- --json] [-- --only NAME[,NAME]] [-- --markdown]`: every benchmark suite,
// each figure against a baseline measured in the same run (absolute numbers depend on the
// machine; ratios travel). The results are also written to reports/bench/latest.json.
// docs/BENCH.md describes each suite, its baseline and its target.

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions, Result, SuiteReport } from './lib.ts';

type Suite = (opts: BenchOptions) => Promise<SuiteReport>;

// In this order: the in-process suites first, the certification (a child process of its own,
// the slowest) last.
const SUITES: Record<string, Suite> = {
  stanza: async (opts) => (await import('./suites/stanza.ts')).run(opts),
  server: async (opts) => (await import('./suites/server.ts')).run(opts),
  e2e: async (opts) => (await import('./suites/e2e.ts')).run(opts),
  crypto: async (opts) => (await import('./suites/crypto.ts')).run(opts),
  certify: async (opts) => (await import('./suites/certify.ts')).run(opts),
};

const args = process.argv.slice(2);
const json = args.includes('--json');
const markdown = args.includes('--markdown');
const onlyArg = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const only = onlyArg?.split(',').filter((s) => s !== '');
const unknown = (only ?? []).filter((name) => !(name in SUITES));
if (onlyArg !== undefined && (unknown.length > 0 || !only || only.length === 0)) {
  process.stderr.write(`--only takes suite names (${Object.keys(SUITES).join(', ')}); got ${onlyArg}\n`);
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const opts: BenchOptions = { root, timeMs: Number(process.env.BENCH_TIME_MS ?? 1500) };
const log = (line: string) => {
  if (!json) process.stdout.write(`${line}\n`);
};

const started = new Date();
const load = [loadavg()[0] ?? 0];
const suites: Record<string, Omit<SuiteReport, 'results'>> = {};
const results: (Result & { readonly suite: string })[] = [];
const errors: Record<string, string> = {};
for (const [name, suite] of Object.entries(SUITES)) {
  if (only && !only.includes(name)) continue;
  log(`running ${name}...`);
  const t0 = Date.now();
  try {
    const { results: r, ...rest } = await suite(opts);
    suites[name] = rest;
    for (const x of r) results.push({ suite: name, ...x });
  } catch (e) {
    errors[name] = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`  ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  log(`  ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
load.push(loadavg()[0] ?? 0);

const report = {
  date: started.toISOString(),
  machine: {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    // Other work on the machine moves every figure; the ratios less so.
    loadAverage1m: { start: Number(load[0]?.toFixed(2)), end: Number(load[1]?.toFixed(2)) },
  },
  seconds: Number(((Date.now() - started.getTime()) / 1000).toFixed(1)),
  results,
  ...(Object.keys(errors).length > 0 ? { errors } : {}),
  suites,
};
mkdirSync(join(root, 'reports/bench'), { recursive: true });
writeFileSync(join(root, 'reports/bench/latest.json'), `${JSON.stringify(report, null, 2)}\n`);

const fmt = (x: number) =>
  x >= 100_000 ? `${(x / 1000).toFixed(0)}k` : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : String(x);
const targetOf = (r: Result) =>
  r.target.of === 'ratio' ? `>= ${r.target.atLeast}x` : `< ${r.target.below} ${r.unit}`;
const ratioOf = (r: Result) =>
  r.ratio === null ? '' : `${r.ratio}${r.spread ? ` (${r.spread[0]}–${r.spread[1]})` : ''}`;

if (json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else if (markdown) {
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === null ? '' : `${fmt(r.baseline)} ${r.baselineUnit ?? r.unit}`,
    ratioOf(r),
    `${targetOf(r)}: ${r.met ? 'met' : 'NOT met'}`,
  ]);
  const head = ['measure', 'figure', 'baseline (same run)', 'ratio (spread)', 'target'];
  process.stdout.write(`| ${head.join(' | ')} |\n| ${head.map(() => '---').join(' | ')} |\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
} else {
  process.stdout.write(
    `\n${report.machine.cores} cores, ${report.machine.cpu}, node ${report.machine.node}, load ${load.map((l) => l.toFixed(1)).join(' -> ')}\n\n`,
  );
  for (const r of results) {
    const base = r.baseline === null ? '' : ` vs ${fmt(r.baseline)} ${r.baselineUnit ?? r.unit}`;
    const ratio = r.ratio === null ? '' : ` = ${ratioOf(r)}`;
    process.stdout.write(
      `${r.met ? 'met    ' : 'NOT met'} ${r.name}: ${fmt(r.value)} ${r.unit}${base}${ratio} (target ${targetOf(r)})\n`,
    );
  }
}
if (Object.keys(errors).length > 0) process.exitCode = 1;
