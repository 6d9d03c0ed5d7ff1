import { describe, expect, it } from 'vitest';
import { createAjv } from './ajv.ts';

describe('createAjv', () => {
  it('compiles 2020-12 schemas with the standard formats', () => {
    const validate = createAjv().compile({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { d: { type: 'string', format: 'date' } },
    });
    expect(validate({ d: '2026-11-24' })).toBe(true);
    expect(validate({ d: '24/11/2026' })).toBe(false);
  });

  it('is strict: unknown keywords are refused at compile time', () => {
    expect(() => createAjv().compile({ type: 'object', notAKeyword: 1 })).toThrow();
  });

  it.each([
    // The standard formats the driver and report schemas use, each with a value it refuses.
    ['date-time', '2026-11-24T10:00:00Z', '2026-11-24 10:00'],
    ['uri', 'https://example.org/x', 'not a uri'],
    ['email', 'ops@example.org', 'ops-at-example.org'],
  ])('knows the %s format', (format, good, bad) => {
    const validate = createAjv().compile({ type: 'string', format });
    expect(validate(good)).toBe(true);
    expect(validate(bad)).toBe(false);
  });

  it('refuses union types, so every value has one type to check', () => {
    expect(() => createAjv().compile({ type: ['string', 'number'] })).toThrow();
  });
});
