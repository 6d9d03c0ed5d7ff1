// stanza-pipeline: what the server does to every inbound frame (UTF-8 and character checks, the
// structural scan with the tree built in the same pass, entities, base64, classify, schema
// check, canonical text) vs fast-xml-parser's parse of the same text with attributes kept,
// without its validator or any limit. Target: the pipeline at least 0.5x the bare parse. Measured in
// alternating rounds; the headline takes each task's best round, the spread is the ratio of
// each round.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { checkFrame } from '../../harness/schema/check.ts';
import { stanzaRegistry } from '../../harness/schema/validate.ts';
import { parseStanza } from '../../harness/xml/parse.ts';
import type { BenchOptions, SuiteReport } from '../lib.ts';
import { inRounds, ratio, ratioResult, roundRatios } from '../lib.ts';

const ROUNDS = 3;

function corpus(root: string): string[] {
  const dir = join(root, 'fixtures/stanzas/valid');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.xml'))
    .sort();
  return files.map((f) => readFileSync(join(dir, f), 'utf8'));
}

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const stanzas = corpus(opts.root);
  const bytes = stanzas.reduce((n, s) => n + Buffer.byteLength(s), 0);
  stanzaRegistry(); // compile schemas outside the measurement

  // The pipeline must accept the whole corpus, or the figure would measure rejections.
  const rejected = stanzas.filter((s) => checkFrame(s).violations.length > 0).length;
  if (rejected > 0) throw new Error(`${rejected} corpus stanzas do not validate; fix the fixtures first`);

  const bare = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  let sink = 0;
  const { best: figures, each } = await inRounds(opts, ROUNDS, stanzas.length, 'stanzas', {
    'bare-parse': () => {
      for (const s of stanzas) sink += bare.parse(s) ? 1 : 0;
    },
    'codec-only': () => {
      for (const s of stanzas) sink += parseStanza(s).ok ? 1 : 0;
    },
    'stanza-pipeline': () => {
      for (const s of stanzas) sink += checkFrame(s).violations.length;
    },
  });
  if (sink < 0) throw new Error('unreachable: keeps the work observable');
  const pipeline = figures['stanza-pipeline']?.perSecond ?? 0;
  const parse = figures['bare-parse']?.perSecond ?? 0;
  return {
    results: [
      ratioResult('stanza pipeline vs bare parse', pipeline, parse, 0.5, 'stanzas/s', {
        baselineUnit: 'stanzas/s (fast-xml-parser)',
        perRound: roundRatios(each, 'stanza-pipeline', 'bare-parse'),
        details: { stanzas: stanzas.length, bytes },
      }),
    ],
    corpus: { stanzas: stanzas.length, bytes },
    figures,
    ratios: {
      'stanza-pipeline/bare-parse': ratio(figures, 'stanza-pipeline', 'bare-parse', { atLeast: 0.5 }),
      'codec-only/bare-parse': ratio(figures, 'codec-only', 'bare-parse'),
    },
  };
}
