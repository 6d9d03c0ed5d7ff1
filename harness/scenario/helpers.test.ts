import { describe, expect, it } from 'vitest';
import { canary, fixtureBytes, sha256hex, wireNeedles } from './helpers.ts';

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

describe('wireNeedles, the plain forms', () => {
  const secret = 'canary-abc-0123456789abcdef';

  it('finds the secret as is and hex-encoded', () => {
    const needles = wireNeedles(secret);
    const found = (payload: string) => needles.some((n) => payload.includes(n));
    expect(found(`<body>${secret}</body>`)).toBe(true);
    expect(found(`00ff${Buffer.from(secret).toString('hex')}00`)).toBe(true);
  });

  it('has no empty needle even for a short secret, so nothing matches by accident', () => {
    const needles = wireNeedles('abcdef');
    for (const n of needles) expect(n).not.toBe('');
    const payload = Buffer.alloc(200, 42).toString('base64');
    expect(needles.some((n) => payload.includes(n))).toBe(false);
  });
});

describe('fixtureBytes and sha256hex', () => {
  it('read a media fixture and hash it as its README pins it', () => {
    const photo = fixtureBytes('photo.jpg');
    expect(photo.length).toBe(9672);
    expect(sha256hex(photo)).toBe('212ed8bd306011d49cc40db07ac6629ed1b1590aa72e07e7ec63518154cb086e');
  });
});

describe('canary', () => {
  it('carries its label and a hex tag, and differs between labels', () => {
    const a = canary('alpha');
    expect(a).toMatch(/^canary-alpha-[0-9a-f]+$/);
    expect(canary('beta')).not.toBe(a);
    expect(canary('beta').startsWith('canary-beta-')).toBe(true);
  });
});
