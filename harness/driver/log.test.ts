import { describe, expect, it } from 'vitest';
import type { DriverLogInput } from './log.ts';
import { DriverLog } from './log.ts';

const entry = (over: Partial<DriverLogInput> = {}): DriverLogInput => ({
  endpoint: 'send',
  method: 'POST',
  path: '/v1/send',
  attempt: 1,
  startedAt: 1_718_000_000_000,
  durationMs: 3,
  ...over,
});

describe('DriverLog', () => {
  it('numbers entries and slices them from a mark', () => {
    const log = new DriverLog();
    log.record(entry());
    const mark = log.mark();
    log.record(entry({ endpoint: 'reset', path: '/v1/reset' }));
    expect(log.since(mark).map((e) => [e.seq, e.endpoint])).toEqual([[2, 'reset']]);
    expect(log.toJsonl(log.since(mark)).split('\n')).toHaveLength(2);
    expect(JSON.parse(log.toJsonl().split('\n')[0] ?? '')).toMatchObject({ seq: 1, endpoint: 'send' });
  });

  it('shortens long strings (inline media) to their length and hash', () => {
    const log = new DriverLog({ maxStringChars: 16 });
    const base64 = 'A'.repeat(40);
    const e = log.record(entry({ request: { content: { media: { base64 } }, to: 'short' } }));
    expect(e.request).toEqual({
      content: {
        media: {
          base64: '<40 characters, sha256 f0a2fb80ac0699075fb6c7b0ee2bcc204a1d909ee3149571216ec9cc1d4b9f8e>',
        },
      },
      to: 'short',
    });
  });

  it('keeps at most maxEntries, counting what it dropped', () => {
    const log = new DriverLog({ maxEntries: 2 });
    for (let i = 0; i < 5; i++) log.record(entry());
    expect(log.entries().map((e) => e.seq)).toEqual([4, 5]);
    expect(log.dropped).toBe(3);
  });
});
