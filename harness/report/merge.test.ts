import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ViolationCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId, RequirementId } from '../requirements/types.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { mergeRuns, resultLine, shardOf } from './merge.ts';
import { runKey, summarise } from './summary.ts';
import type { RunMeta } from './write.ts';
import { writeRun } from './write.ts';

const catalogue = loadCatalogue();
const PROFILES: readonly CryptoProfileId[] = ['signal-pqxdh', 'signal-x3dh'];
const both = catalogue.requirements.filter(
  (r) => !r.retired && r.profiles.length === 2 && r.level === 'MUST',
);
const must = (i: number) => both[i]?.id ?? 'REQ-MSG-001';

function result(
  id: string,
  variant: string,
  profile: CryptoProfileId,
  requirements: string[],
  outcome: Outcome,
  codes: ViolationCode[] = [],
): ScenarioResult {
  const failing = !['PASS', 'INFORMATIONAL', 'NOT_APPLICABLE'].includes(outcome);
  return {
    id,
    variant,
    profile,
    outcome,
    level: 'MUST',
    requirements,
    findings: codes.map((code) => ({
      level: outcome === 'NON_STRICT' ? 'SHOULD' : 'MUST',
      code,
      requirement: requirements[0] as RequirementId,
      step: 'the check',
      message: `${code} in ${id}`,
    })),
    steps: [
      { label: 'the check', startedAt: 1_700_000_000_000, durationMs: 3, status: failing ? 'failed' : 'ok' },
    ],
    notes: [],
    durationMs: 7,
    ...(outcome === 'TIMEOUT' ? { reason: 'TIMEOUT: no answer in 10000 ms' } : {}),
    evidence: {
      transcript: [
        { seq: 1, at: 5, direction: 'c2s', scenario: id, text: `<message id="${id}-${variant}"/>` } as never,
      ],
      events: [{ seq: 1, type: 'connection', state: 'connected' } as never],
    },
  };
}

/** A run of the reference candidate under both profiles, in the order an unsharded run makes it. */
function fullRun(): ScenarioResult[] {
  return PROFILES.flatMap((p) => [
    result('E2EE-REPLAY-001', 'text', p, [must(0), must(1)], p === 'signal-x3dh' ? 'FAIL' : 'PASS', [
      'VIO_E2EE_REPLAY_ACCEPTED',
    ]),
    result('E2EE-REPLAY-001', 'media', p, [must(0), must(1)], 'PASS'),
    result('KEYS-ROTATE-001', 'default', p, ['REQ-KEYS-003', must(2)], 'NON_STRICT', ['VIO_MSG_NOT_SHOWN']),
    result('MSG-TEXT-001', 'default', p, [must(3)], p === 'signal-pqxdh' ? 'TIMEOUT' : 'PASS'),
    result('TYPING-SEND-002', 'typing', p, ['REQ-TYPING-001'], 'NOT_APPLICABLE'),
    result('TYPING-SEND-002', 'recording', p, ['REQ-TYPING-001'], 'NOT_APPLICABLE'),
    result('STANZA-ACK-001', 'default', p, [must(4)], 'PASS'),
  ]);
}

const META: RunMeta = {
  harnessVersion: '0.1.0',
  contractVersion: '1.0',
  candidate: PROFILES.map((profile) => ({ name: 'reference', version: '0.1.0', profile })),
  seed: 'ci-42',
  faults: ['accept-replay'],
  node: 'v20.19.0',
  startedAt: '2026-11-25T10:00:00.000Z',
  finishedAt: '2026-11-25T10:05:00.000Z',
  partial: false,
};

/** The runs of shard i of n: position modulo n in the list ordered by run key. */
function shardOfRuns(runs: readonly ScenarioResult[], index: number, count: number): ScenarioResult[] {
  const ordered = [...runs].sort((a, b) => (runKey(a) < runKey(b) ? -1 : 1));
  const keep = new Set(ordered.filter((_, i) => i % count === index - 1).map(runKey));
  return runs.filter((r) => keep.has(runKey(r)));
}

function write(dir: string, results: readonly ScenarioResult[], meta: object): string {
  const summary = summarise(results, catalogue, PROFILES);
  writeRun(dir, { results, summary, meta: meta as unknown as RunMeta, catalogue });
  return dir;
}

/** Writes the full run unsharded and as n shards; returns the directories. */
function sharded(count: number, over: (i: number) => Record<string, unknown> = () => ({})) {
  const root = mkdtempSync(join(tmpdir(), 'merge-'));
  const results = fullRun();
  const whole = write(join(root, 'whole'), results, META);
  const shards = Array.from({ length: count }, (_, k) =>
    write(join(root, `shard-${k + 1}`), shardOfRuns(results, k + 1, count), {
      ...META,
      shard: { index: k + 1, count },
      ...over(k + 1),
    }),
  );
  return { root, results, whole, shards };
}

function thrown(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error('expected a HarnessError');
}

describe('mergeRuns', () => {
  it('gives the unsharded summary, results and evidence, whatever order the shards come in', () => {
    const { results, whole, shards } = sharded(3);
    const order = results.map(runKey);
    const merged = mergeRuns([shards[2], shards[0], shards[1]] as string[], { order });
    expect(merged.profiles).toEqual(PROFILES);
    expect(summarise(merged.results, catalogue, merged.profiles)).toEqual(
      summarise(results, catalogue, PROFILES),
    );
    // Line for line what the unsharded run wrote.
    expect(merged.results.map(resultLine).join('\n')).toBe(
      readFileSync(join(whole, 'results.jsonl'), 'utf8').trimEnd(),
    );
    const evidence = merged.evidenceFiles.map((e) => e.to);
    expect(evidence).toEqual([
      'evidence/E2EE-REPLAY-001/text.signal-x3dh.wire.jsonl',
      'evidence/KEYS-ROTATE-001/default.signal-pqxdh.wire.jsonl',
      'evidence/KEYS-ROTATE-001/default.signal-x3dh.wire.jsonl',
      'evidence/MSG-TEXT-001/default.signal-pqxdh.wire.jsonl',
    ]);
    for (const e of merged.evidenceFiles) {
      expect(readFileSync(e.from, 'utf8')).toBe(readFileSync(join(whole, e.to), 'utf8'));
    }
  });

  it('without an order still gives the same verdicts and counts', () => {
    const { results, shards } = sharded(2);
    const merged = mergeRuns(shards);
    const a = summarise(merged.results, catalogue, merged.profiles);
    const b = summarise(results, catalogue, PROFILES);
    expect(a.counts).toEqual(b.counts);
    expect(a.certification).toEqual(b.certification);
    expect(a.areas).toEqual(b.areas);
    expect(a.requirements.map((r) => [r.id, r.verdict])).toEqual(
      b.requirements.map((r) => [r.id, r.verdict]),
    );
    // Profile first, then run key.
    expect(merged.results.slice(0, 2).map(runKey)).toEqual([
      'E2EE-REPLAY-001 media signal-pqxdh',
      'E2EE-REPLAY-001 text signal-pqxdh',
    ]);
  });

  it('merges the meta: earliest start, latest end, partial when any shard is, no shard position', () => {
    const { shards } = sharded(2, (i) =>
      i === 2
        ? { startedAt: '2026-11-25T09:59:00.000Z', finishedAt: '2026-11-25T10:07:00.000Z', node: 'v22.1.0' }
        : {},
    );
    const { meta } = mergeRuns(shards);
    expect(meta).toMatchObject({
      seed: 'ci-42',
      startedAt: '2026-11-25T09:59:00.000Z',
      finishedAt: '2026-11-25T10:07:00.000Z',
      node: 'v20.19.0, v22.1.0',
      partial: false,
      shards: 2,
    });
    expect(meta).not.toHaveProperty('shard');
    const partial = sharded(2, (i) => (i === 1 ? { partial: true, finishedAt: undefined } : {}));
    const m2 = mergeRuns(partial.shards).meta;
    expect(m2.partial).toBe(true);
    expect(m2.finishedAt).toBeUndefined();
    expect(m2).not.toHaveProperty('interrupted');
    const cut = sharded(2, (i) => (i === 2 ? { partial: true, interrupted: true } : {}));
    expect(mergeRuns(cut.shards).meta).toMatchObject({ partial: true, interrupted: true });
  });

  it('joins the candidate profile by profile when a shard lists only the profiles it ran', () => {
    const { shards } = sharded(2, (i) => (i === 1 ? { candidate: [META.candidate[1]] } : {}));
    expect(mergeRuns(shards).meta.candidate).toEqual(META.candidate);
  });

  it.each([
    ['seed', { seed: 'ci-43' }, 'seed is "ci-42" in'],
    ['harness version', { harnessVersion: '0.2.0' }, 'harnessVersion is "0.1.0"'],
    ['contract version', { contractVersion: '2.0' }, 'contractVersion'],
    ['faults', { faults: ['drop-receipts'] }, 'faults'],
    ['filter', { filter: 'E2EE-*' }, 'filter is (none)'],
    ['target', { target: 'http://127.0.0.1:7700' }, 'target is (none)'],
    ['evidence mode', { evidence: 'all' }, 'evidence is (none)'],
    [
      'candidate',
      { candidate: [{ name: 'reference', version: '0.1.1', profile: 'signal-x3dh' }] },
      'the candidate under signal-x3dh',
    ],
  ])('refuses shards of different runs: %s', (_what, over, message) => {
    const { shards } = sharded(2, (i) => (i === 2 ? over : {}));
    const e = thrown(() => mergeRuns(shards));
    expect(e.code).toBe('HRN_ERR_MERGE_MISMATCH');
    expect(e.message).toContain(message);
    expect(e.message).toContain(shards[1]);
  });

  it('accepts the same faults in another order', () => {
    const { shards } = sharded(2, (i) => (i === 2 ? { faults: ['accept-replay'] } : {}));
    expect(mergeRuns(shards).meta.faults).toEqual(['accept-replay']);
  });

  it('refuses a different shard count, a shard given twice, a missing shard and a repeated directory', () => {
    const three = sharded(3);
    const two = sharded(2);
    const e1 = thrown(() => mergeRuns([three.shards[0], two.shards[1]] as string[]));
    expect(e1.code).toBe('HRN_ERR_MERGE_MISMATCH');
    expect(e1.message).toContain('the shard count is 3');

    const copy = write(join(three.root, 'again'), [], { ...META, shard: { index: 2, count: 3 } });
    const e2 = thrown(() => mergeRuns([...three.shards, copy]));
    expect(e2.code).toBe('HRN_ERR_MERGE_SHARDS');
    expect(e2.message).toContain(`shard 2/3 is given twice: ${three.shards[1]} and ${copy}`);

    const e3 = thrown(() => mergeRuns([three.shards[0], three.shards[2]] as string[]));
    expect(e3.code).toBe('HRN_ERR_MERGE_SHARDS');
    expect(e3.message).toContain('shard(s) 2/3 missing');

    const e4 = thrown(() => mergeRuns([two.shards[0], `${two.shards[0]}/`, two.shards[1]] as string[]));
    expect(e4.code).toBe('HRN_ERR_MERGE_SHARDS');
    expect(e4.message).toContain('is given twice');
  });

  it('refuses a run that appears in two shards', () => {
    const { root, results } = sharded(2);
    const a = write(join(root, 'a'), results.slice(0, 5), { ...META, shard: { index: 1, count: 2 } });
    const b = write(join(root, 'b'), results.slice(4), { ...META, shard: { index: 2, count: 2 } });
    const e = thrown(() => mergeRuns([a, b]));
    expect(e.code).toBe('HRN_ERR_MERGE_SHARDS');
    expect(e.message).toContain(
      `${runKey(results[4] as ScenarioResult)} appears in two shards: ${a} and ${b}`,
    );
  });

  it('reads a whole run (no shard position) as shard 1/1, and the i/n form', () => {
    const { whole, results } = sharded(1);
    expect(mergeRuns([whole]).results).toHaveLength(results.length);
    expect(shardOf({ shard: '2/4' }, 'x')).toEqual({ index: 2, count: 4 });
    expect(shardOf({ shard: { index: 3, total: 3 } }, 'x')).toEqual({ index: 3, count: 3 });
    expect(thrown(() => shardOf({ shard: { index: 4, count: 3 } }, 'x')).code).toBe('HRN_ERR_MERGE_INPUT');
    expect(thrown(() => shardOf({ shard: '0/3' }, 'x')).code).toBe('HRN_ERR_MERGE_INPUT');
  });

  describe('refuses a shard directory with a bad file, naming it', () => {
    const setup = () => {
      const { shards } = sharded(2);
      return shards as [string, string];
    };

    it('no summary.json, or one without meta', () => {
      const [a, b] = setup();
      const empty = mkdtempSync(join(tmpdir(), 'merge-empty-'));
      const e = thrown(() => mergeRuns([a, empty]));
      expect(e.code).toBe('HRN_ERR_MERGE_INPUT');
      expect(e.message).toContain(join(empty, 'summary.json'));
      writeFileSync(join(b, 'summary.json'), '{"counts": {}}');
      expect(thrown(() => mergeRuns([a, b])).message).toContain('has no "meta" object');
    });

    it('a results line that is not a result', () => {
      const [a, b] = setup();
      const path = join(b, 'results.jsonl');
      const lines = readFileSync(path, 'utf8').split('\n');
      writeFileSync(path, [lines[0], '{"id": "X-Y-001", "outcome": "MAYBE"}', ...lines.slice(1)].join('\n'));
      const e = thrown(() => mergeRuns([a, b]));
      expect(e.code).toBe('HRN_ERR_MERGE_INPUT');
      expect(e.message).toContain(`${path}:2:`);
      writeFileSync(path, '{not json\n');
      expect(thrown(() => mergeRuns([a, b])).message).toContain(`${path}:1: not JSON`);
    });

    it('an evidence path outside the run, or evidence that is missing', () => {
      const [a, b] = setup();
      const path = join(b, 'results.jsonl');
      const line = JSON.parse(readFileSync(path, 'utf8').split('\n')[0] ?? '') as Record<string, unknown>;
      writeFileSync(path, `${JSON.stringify({ ...line, evidencePath: '../../etc/passwd' })}\n`);
      expect(thrown(() => mergeRuns([a, b])).message).toContain('"evidencePath" must be a relative path');
      writeFileSync(path, `${JSON.stringify({ ...line, evidencePath: 'evidence/X/none.wire.jsonl' })}\n`);
      expect(thrown(() => mergeRuns([a, b])).message).toContain(
        'names evidence evidence/X/none.wire.jsonl, which is not in',
      );
    });

    it('a symlink among the evidence', () => {
      const [a, b] = setup();
      mkdirSync(join(b, 'evidence', 'LINK'), { recursive: true });
      symlinkSync('/etc/hostname', join(b, 'evidence', 'LINK', 'wire.jsonl'));
      const e = thrown(() => mergeRuns([a, b]));
      expect(e.code).toBe('HRN_ERR_MERGE_INPUT');
      expect(e.message).toContain('is not a regular file');
    });
  });
});
