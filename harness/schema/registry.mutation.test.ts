// The stanza registry against schema folders it does not ship with: a broken or missing schema
// must stop the harness with HRN_ERR_SCHEMA_COMPILE (an ERROR of ours, never a candidate's FAIL),
// and each JSON Schema keyword must map to its violation code and a stanza path, including the
// keywords the shipped schemas happen not to trip today.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';

const fake = vi.hoisted(() => ({
  /** Files added to (or replacing files of) schemas/stanzas, by name. */
  files: new Map<string, string>(),
  /** Files of schemas/stanzas left out of the listing. */
  hidden: new Set<string>(),
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const inStanzas = (p: unknown) => String(p).includes('/schemas/stanzas/');
  const nameOf = (p: unknown) => String(p).split('/').pop() ?? '';
  return {
    ...fs,
    readdirSync: (dir: URL) => {
      const real = fs.readdirSync(dir);
      if (!inStanzas(dir)) return real;
      const kept = real.filter((f) => !fake.hidden.has(f) && !fake.files.has(f));
      return [...kept, ...fake.files.keys()];
    },
    readFileSync: (path: URL, encoding: BufferEncoding) => {
      const replaced = inStanzas(path) ? fake.files.get(nameOf(path)) : undefined;
      return replaced ?? fs.readFileSync(path, encoding);
    },
  };
});

afterEach(() => {
  fake.files.clear();
  fake.hidden.clear();
});

/** A fresh copy of the module: the registry is compiled once per module instance. */
async function freshValidate() {
  vi.resetModules();
  return import('./validate.ts');
}

async function compileError(): Promise<{ code?: string; message?: string; cause?: unknown }> {
  const { stanzaRegistry } = await freshValidate();
  try {
    stanzaRegistry();
  } catch (e) {
    return e as { code?: string; message?: string; cause?: unknown };
  }
  throw new Error('the registry compiled');
}

const PING = 'iq.ping.schema.json';
const PING_ID = `https://interop-cert.dev/schemas/stanzas/${PING}`;
const schema = (defs: Record<string, unknown>) =>
  JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: PING_ID, $defs: defs });

describe('a schema folder the registry cannot use', () => {
  it("a file that is not JSON, with the parser's complaint kept", async () => {
    fake.files.set('broken.schema.json', '{ "$id": ');
    const e = await compileError();
    expect(e.code).toBe('HRN_ERR_SCHEMA_COMPILE');
    expect(e.cause).toBeInstanceOf(SyntaxError);
    expect(e.message).toContain((e.cause as Error).message);
  });

  it('a stanza kind without a schema file', async () => {
    fake.hidden.add(PING);
    const e = await compileError();
    expect(e.code).toBe('HRN_ERR_SCHEMA_COMPILE');
    expect(e.message).toContain('iq.ping');
  });

  it('a schema that defines neither direction', async () => {
    fake.files.set(PING, schema({ other: { type: 'object' } }));
    const e = await compileError();
    expect(e.code).toBe('HRN_ERR_SCHEMA_COMPILE');
    expect(e.message).toContain('iq.ping');
  });

  it('a direction whose definition does not compile', async () => {
    fake.files.set(PING, schema({ c2s: { type: 'object', notAKeyword: 1 } }));
    const e = await compileError();
    expect(e.code).toBe('HRN_ERR_SCHEMA_COMPILE');
    expect(e.message).toContain('iq.ping c2s');
    expect(e.message).toContain((e.cause as Error).message);
  });

  it('reads only *.schema.json files: a README beside the schemas is not one', async () => {
    fake.files.set('README.md', '# Stanza schemas\n');
    const { stanzaRegistry } = await freshValidate();
    expect(stanzaRegistry().get('iq.ping')?.c2s).toBeTypeOf('function');
  });
});

describe('each keyword maps to its code and place', () => {
  // iq.ping replaced by a schema made to trip keywords the shipped schemas do not trip today.
  const synthetic = schema({
    c2s: {
      type: 'object',
      properties: {
        attrs: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'date-time' },
            type: { type: 'string', pattern: '^g' },
            to: { type: 'string', minLength: 5 },
            lang: { type: 'string', pattern: '^[a-z]+$', enum: ['en', 'de'] },
            sealed: false,
          },
        },
        children: {
          type: 'object',
          minProperties: 2,
          properties: { ping: { type: 'array', minItems: 2 }, forbidden: false },
        },
      },
    },
  });

  function node(xml: string): StanzaNode {
    const r = parseStanza(xml);
    if (!r.ok) throw new Error(r.violation.message);
    return r.node;
  }

  async function violations(attrs: string, children: string) {
    fake.files.set(PING, synthetic);
    const { validateStanza } = await freshValidate();
    return validateStanza(node(`<iq xmlns="w:p" ${attrs}>${children}</iq>`));
  }

  it('accepts what the schema allows', async () => {
    const ok = 'id="2026-11-24T10:00:00Z" type="get" to="s.whatsapp.net" lang="en"';
    expect(await violations(ok, '<ping/><ping/><pong/>')).toEqual([]);
  });

  it('a failed standard format is a bad value that names the format', async () => {
    const [v, ...rest] = await violations('id="tomorrow"', '<ping/><ping/><pong/>');
    expect(rest).toEqual([]);
    expect(v).toMatchObject({ code: 'VIO_SCHEMA_BAD_ATTR_VALUE', kind: 'iq.ping', pointer: '/iq@id' });
    expect(v?.message).toContain('date-time');
  });

  it('a pattern is a bad value that shows the pattern; other keywords keep their explanation', async () => {
    const v = await violations('type="set" to="s"', '<ping/><ping/><pong/>');
    expect(v.map((x) => `${x.code} ${x.pointer}`)).toEqual([
      'VIO_SCHEMA_BAD_ATTR_VALUE /iq@type',
      'VIO_SCHEMA_BAD_ATTR_VALUE /iq@to',
    ]);
    expect(v[0]?.message).toContain('^g');
    expect(v[1]?.message).toContain('5');
  });

  it('reports one violation per code and place, however many keywords fail there', async () => {
    const v = await violations('lang="EN"', '<ping/><ping/><pong/>');
    expect(v.map((x) => `${x.code} ${x.pointer}`)).toEqual(['VIO_SCHEMA_BAD_ATTR_VALUE /iq@lang']);
  });

  it('a forbidden attribute and a forbidden child are each unexpected, at their place', async () => {
    const v = await violations('sealed="1"', '<ping/><ping/><forbidden/>');
    expect(v.map((x) => `${x.code} ${x.pointer}`)).toEqual([
      'VIO_SCHEMA_UNEXPECTED_ATTR /iq@sealed',
      'VIO_SCHEMA_UNEXPECTED_CHILD /iq/forbidden',
    ]);
    for (const x of v) expect(x.message).not.toBe('');
  });

  it('too few children of a tag, and too few kinds of children, are child counts with the bound', async () => {
    const v = await violations('', '<ping/>');
    expect(v.map((x) => `${x.code} ${x.pointer}`)).toEqual([
      'VIO_SCHEMA_CHILD_COUNT /iq',
      'VIO_SCHEMA_CHILD_COUNT /iq/ping',
    ]);
    for (const x of v) expect(x.message).toMatch(/at least 2\b/);
  });
});
