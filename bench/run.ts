// `npm run bench [-- --json] [-- --only NAME]`: every benchmark suite, each figure against a
// baseline measured in the same run (absolute numbers depend on the machine; ratios travel).
// The results are also written to reports/bench/latest.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, SuiteReport } from './lib.ts';
import { run as stanza } from './suites/stanza.ts';

const SUITES: Record<string, (opts: BenchOptions) => Promise<SuiteReport>> = {
  stanza,
  crypto: async (opts) => (await import('./suites/crypto.ts')).run(opts),
  server: async (opts) => (await import('./suites/server.ts')).run(opts),
};

const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const root = new URL('..', import.meta.url).pathname;
const opts: BenchOptions = { root, timeMs: Number(process.env.BENCH_TIME_MS ?? 1500) };

const suites: Record<string, SuiteReport> = {};
for (const [name, run] of Object.entries(SUITES)) {
  if (only !== undefined && name !== only) continue;
  if (!json) process.stdout.write(`running ${name}...\n`);
  suites[name] = await run(opts);
}

const report = { date: new Date().toISOString(), node: process.version, platform: process.platform, suites };
mkdirSync(join(root, 'reports/bench'), { recursive: true });
writeFileSync(join(root, 'reports/bench/latest.json'), `${JSON.stringify(report, null, 2)}\n`);

if (json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  for (const [name, s] of Object.entries(suites)) {
    process.stdout.write(`\n${name}\n`);
    for (const [task, f] of Object.entries(s.figures)) {
      process.stdout.write(
        `  ${task.padEnd(28)} ${String(f.perSecond).padStart(10)} ${f.unit}/s  ${f.meanMicros} µs each\n`,
      );
    }
    for (const [r, v] of Object.entries(s.ratios)) {
      const target =
        v.atLeast !== undefined
          ? ` (target >= ${v.atLeast}: ${v.met ? 'met' : 'NOT met'})`
          : v.atMost !== undefined
            ? ` (target <= ${v.atMost}: ${v.met ? 'met' : 'NOT met'})`
            : '';
      process.stdout.write(`  ${r} = ${v.value}${target}\n`);
    }
  }
}
