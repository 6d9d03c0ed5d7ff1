import { describe, expect, it } from 'vitest';
import { wireNeedles } from './helpers.ts';

describe('wireNeedles', () => {
  it('finds a secret base64-encoded at any offset inside a longer payload', () => {
    const secret = 'canary-abc-0123456789abcdef';
    const needles = wireNeedles(secret);
    for (let prefix = 0; prefix < 7; prefix++) {
      const payload = Buffer.concat([
        Buffer.alloc(prefix, 7),
        Buffer.from(secret),
        Buffer.alloc(5, 9),
      ]).toString('base64');
      expect(
        needles.some((n) => payload.includes(n)),
        `prefix ${prefix}`,
      ).toBe(true);
    }
  });

  it('does not match a payload without the secret', () => {
    const payload = Buffer.alloc(200, 42).toString('base64');
    expect(wireNeedles('canary-abc-0123456789abcdef').some((n) => payload.includes(n))).toBe(false);
  });
});
