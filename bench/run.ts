// `npm run bench [-- --json]`: throughput figures, each against a baseline measured in the
// same run (absolute numbers depend on the machine; ratios travel). Results are also written
// to reports/bench/latest.json.
//
// stanza-pipeline: what the server does to every inbound frame (structural scan, validate,
// parse, classify, schema check, canonical serialize) vs bare fast-xml-parser parsing of the
// same text with attributes kept. Target: the pipeline at least 0.5x the bare parse.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { Bench } from 'tinybench';
import { checkFrame } from '../harness/schema/check.ts';
import { stanzaRegistry } from '../harness/schema/validate.ts';
import { parseStanza } from '../harness/xml/parse.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const json = process.argv.includes('--json');
const timeMs = Number(process.env.BENCH_TIME_MS ?? 1500);

function corpus(): string[] {
  const dir = join(ROOT, 'fixtures/stanzas/valid');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.xml'))
    .sort();
  return files.map((f) => readFileSync(join(dir, f), 'utf8'));
}

interface Figure {
  stanzasPerSecond: number;
  meanMicrosPerStanza: number;
  p99MicrosPerPass: number;
  samples: number;
}

async function main(): Promise<void> {
  const stanzas = corpus();
  const bytes = stanzas.reduce((n, s) => n + Buffer.byteLength(s), 0);
  stanzaRegistry(); // compile schemas outside the measurement

  // Sanity: the pipeline must accept the whole corpus, or the figure measures rejections.
  const rejected = stanzas.filter((s) => checkFrame(s).violations.length > 0).length;
  if (rejected > 0) throw new Error(`${rejected} corpus stanzas do not validate; fix the fixtures first`);

  const bare = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  let sink = 0;
  const bench = new Bench({ time: timeMs, warmupTime: 300 });
  bench
    .add('bare-parse', () => {
      for (const s of stanzas) sink += bare.parse(s) ? 1 : 0;
    })
    .add('codec-only', () => {
      for (const s of stanzas) sink += parseStanza(s).ok ? 1 : 0;
    })
    .add('stanza-pipeline', () => {
      for (const s of stanzas) sink += checkFrame(s).violations.length;
    });
  await bench.run();

  const figures: Record<string, Figure> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`benchmark ${task.name} did not complete (${r.state})`);
    figures[task.name] = {
      stanzasPerSecond: Math.round((stanzas.length * 1000) / r.latency.mean),
      meanMicrosPerStanza: Number(((r.latency.mean * 1000) / stanzas.length).toFixed(2)),
      p99MicrosPerPass: Number((r.latency.p99 * 1000).toFixed(1)),
      samples: r.latency.samplesCount,
    };
  }
  const ratio = (a: string, b: string) =>
    Number(((figures[a]?.stanzasPerSecond ?? 0) / (figures[b]?.stanzasPerSecond ?? 1)).toFixed(3));
  const pipelineRatio = ratio('stanza-pipeline', 'bare-parse');
  const report = {
    benchmark: 'stanza-pipeline',
    date: new Date().toISOString(),
    node: process.version,
    corpus: { stanzas: stanzas.length, bytes },
    figures,
    ratios: {
      'stanza-pipeline/bare-parse': { value: pipelineRatio, target: 0.5, met: pipelineRatio >= 0.5 },
      'codec-only/bare-parse': { value: ratio('codec-only', 'bare-parse') },
    },
    sink: sink > 0,
  };
  mkdirSync(join(ROOT, 'reports/bench'), { recursive: true });
  writeFileSync(join(ROOT, 'reports/bench/latest.json'), `${JSON.stringify(report, null, 2)}\n`);

  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`corpus: ${stanzas.length} stanzas, ${bytes} bytes\n`);
  for (const [name, f] of Object.entries(figures)) {
    process.stdout.write(
      `${name.padEnd(16)} ${String(f.stanzasPerSecond).padStart(9)} stanzas/s  ${f.meanMicrosPerStanza} µs/stanza\n`,
    );
  }
  const verdict = report.ratios['stanza-pipeline/bare-parse'].met ? 'met' : 'NOT met';
  process.stdout.write(`stanza-pipeline / bare-parse = ${pipelineRatio} (target >= 0.5: ${verdict})\n`);
}

await main();
