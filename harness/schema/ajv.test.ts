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
});
