import { describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../server/types.ts';
import { formatEntry, wireExcerpt } from './excerpt.ts';
import { frame, OFFSET, T0 } from './testing/runs.ts';

const steps = [
  { label: 'send', startedAt: T0, durationMs: 100, status: 'ok' as const },
  { label: 'check', startedAt: T0 + 200, durationMs: 100, status: 'failed' as const },
];
const line = { steps, clockOffsetMs: OFFSET };
/** One frame every 20 ms of server time from the start of `send`. */
const wire: TranscriptEntry[] = Array.from({ length: 20 }, (_, i) =>
  frame(i + 1, T0 + OFFSET + i * 20, `<message id="m${i + 1}"/>`),
);
const seqs = (lines: readonly string[]) =>
  lines
    .map((l) => /^#(\d+)/.exec(l)?.[1])
    .filter(Boolean)
    .map(Number);

describe('wireExcerpt', () => {
  it('centres on the frame the server flagged with the finding code', () => {
    const flagged = wire.map((e) =>
      e.seq === 15
        ? { ...e, violations: [{ code: 'VIO_STANZA_UNKNOWN_KIND' as never, pointer: '/', message: 'm' }] }
        : e,
    );
    const ex = wireExcerpt(line, flagged, { code: 'VIO_STANZA_UNKNOWN_KIND', step: 'check' });
    expect(ex?.anchor).toBe('violation');
    expect(seqs(ex?.lines ?? [])).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(ex?.lines[3]).toContain('[VIO_STANZA_UNKNOWN_KIND]');
  });

  it('shows the frames of the failing step, mapped from wall clock to server clock', () => {
    // check runs T0+200..T0+300 wall: frames 11..16 (server T0+OFFSET+200..+300).
    const ex = wireExcerpt(line, wire, { code: 'VIO_MSG_NOT_SHOWN', step: 'check' });
    expect(ex?.anchor).toBe('step');
    expect(seqs(ex?.lines ?? [])).toEqual([11, 12, 13, 14, 15, 16]);
    expect(ex).toMatchObject({ before: 10, after: 4 });
  });

  it('for a check after a step, runs on to the next step, showing how a long window began and ended', () => {
    // after: send covers T0..T0+199: frames 1..10, more than 8.
    const ex = wireExcerpt(line, wire, { code: 'VIO_MSG_NOT_SHOWN', step: 'after: send' });
    expect(ex?.anchor).toBe('step');
    expect(seqs(ex?.lines ?? [])).toEqual([1, 2, 3, 4, 7, 8, 9, 10]);
    expect(ex?.lines[4]).toBe('... 2 entries of the step left out ...');
  });

  it('falls back to the end of the run without a step to map', () => {
    const ex = wireExcerpt({ steps, clockOffsetMs: undefined }, wire, {
      code: 'VIO_MSG_NOT_SHOWN',
      step: 'check',
    });
    expect(ex?.anchor).toBe('end');
    expect(seqs(ex?.lines ?? [])).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(wireExcerpt(line, wire)?.anchor).toBe('end');
  });

  it('has nothing to show without server entries', () => {
    expect(wireExcerpt(line, [])).toBeUndefined();
    expect(wireExcerpt(line, [{ seq: 1, text: '<x/>' } as never])).toBeUndefined();
  });
});

describe('formatEntry', () => {
  it('writes one line per entry, direction and address first, long stanzas cut', () => {
    const long = frame(3, 0, `<message>${'a'.repeat(500)}\n</message>`, { direction: 'c2s' });
    const text = formatEntry(long, 40);
    expect(text.startsWith('#3 -> 1-10853634039893@interop  <message>aaa')).toBe(true);
    expect(text).not.toContain('\n');
    expect(text.endsWith('…')).toBe(true);
    const event = formatEntry({
      kind: 'event',
      seq: 4,
      clock: 0,
      event: 'fault-fired',
      detail: { kind: 'replay' },
    });
    expect(event).toBe('#4 .. fault-fired {"kind":"replay"}');
  });
});
