import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testClock } from './testing/fakes.ts';
import { Transcript } from './transcript.ts';

describe('Transcript', () => {
  it('numbers entries, slices by sequence and lists violations', () => {
    const t = new Transcript(testClock());
    t.event({ event: 'open', connection: 'c1' });
    const mark = t.seq;
    t.frame({
      direction: 'c2s',
      connection: 'c1',
      stanza: '<x/>',
      bytes: 4,
      violations: [{ code: 'VIO_STANZA_UNKNOWN_KIND', pointer: '/x', message: 'm' }],
    });
    t.event({ event: 'close', connection: 'c1' });
    expect(t.slice(mark).map((e) => e.seq)).toEqual([2, 3]);
    expect(t.violations(mark).map((v) => v.code)).toEqual(['VIO_STANZA_UNKNOWN_KIND']);
  });

  it('keeps a bounded window in memory and everything in its file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'transcript-')), 'wire.jsonl');
    const t = new Transcript(testClock(), { file, maxEntries: 100 });
    for (let i = 0; i < 1000; i++) t.event({ event: 'tick', detail: { i } });
    expect(t.entries().length).toBeLessThanOrEqual(110);
    expect(t.entries().at(-1)?.seq).toBe(1000);
    expect(t.dropped + t.entries().length).toBe(1000);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1000);
  });
});
