import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runKey } from '../report/summary.ts';
import { globToRegExp, inShard, parseShard } from './run-context.ts';

const PROFILES = ['signal-pqxdh', 'signal-x3dh'] as const;

function runs(ids: readonly string[], variants: number) {
  return PROFILES.flatMap((profile) =>
    ids.flatMap((id) => Array.from({ length: variants }, (_, v) => ({ id, variant: `v${v}`, profile }))),
  );
}

describe('parseShard', () => {
  it('reads i/n and refuses anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1/1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '-1/2', '1/2/3'])
      expect(() => parseShard(bad), bad).toThrow(/--shard takes i\/n/);
  });
});

describe('inShard', () => {
  it('partitions the runs: every run in exactly one shard, whatever the input order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[A-Z]{1,4}-[A-Z]{1,4}-00[0-9]$/), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (ids, variants, count, seed) => {
          const all = runs(ids, variants);
          const shuffled = [...all].sort(
            (a, b) => ((runKey(a).length * seed) % 7) - ((runKey(b).length * seed) % 7),
          );
          const shards = Array.from({ length: count }, (_, i) =>
            inShard(shuffled, { index: i + 1, count }).map(runKey),
          );
          const joined = shards.flat();
          expect(new Set(joined).size).toBe(joined.length);
          expect(joined.sort()).toEqual(all.map(runKey).sort());
          // Balanced to one run.
          const sizes = shards.map((s) => s.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it('spreads each profile over the shards, so a profile tag keeps every shard busy', () => {
    const all = runs(['A-B-001', 'A-B-002', 'C-D-001'], 2);
    for (const index of [1, 2]) {
      const mine = inShard(all, { index, count: 2 });
      for (const p of PROFILES) expect(mine.filter((r) => r.profile === p)).toHaveLength(3);
    }
  });

  it('keeps the input order within a shard, and everything without a shard', () => {
    const all = runs(['B-B-001', 'A-A-001'], 2);
    const mine = inShard(all, { index: 1, count: 2 });
    expect(mine).toEqual(all.filter((r) => mine.includes(r)));
    expect(inShard(all, undefined)).toEqual(all);
  });
});

describe('globToRegExp', () => {
  it('matches ids by * and ?', () => {
    expect(globToRegExp('E2EE-*').test('E2EE-REPLAY-001')).toBe(true);
    expect(globToRegExp('MSG-TEXT-00?').test('MSG-TEXT-001')).toBe(true);
    expect(globToRegExp('MSG-TEXT-00?').test('MSG-TEXT-0010')).toBe(false);
    expect(globToRegExp('MSG.TEXT').test('MSGXTEXT')).toBe(false);
  });
});
