// The committed OpenAPI document is the generator's output, covers every endpoint with its method
// and schemas, and carries each driver schema unchanged but for where its $refs point.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAjv } from '../schema/ajv.ts';
import { DRIVER_CONTRACT_VERSION, ENDPOINTS } from './contract.ts';
import { buildOpenApi, componentName } from './openapi.ts';
import {
  COMMON_SCHEMA,
  DRIVER_SCHEMA_DIR,
  DRIVER_SCHEMAS,
  ENDPOINT_SCHEMAS,
  validateDriver,
} from './validate.ts';

type Json = { readonly [k: string]: unknown };
const read = (file: string) => JSON.parse(readFileSync(new URL(file, DRIVER_SCHEMA_DIR), 'utf8')) as Json;
const committed = read('openapi.json');
const common = read(`${COMMON_SCHEMA}.schema.json`);
const defNames = Object.keys(common.$defs as Json);
const components = (committed.components as Json).schemas as Record<string, Json>;
/** The value at a path of keys, or undefined. */
function at(node: unknown, ...keys: string[]): unknown {
  let cur = node;
  for (const k of keys) cur = typeof cur === 'object' && cur !== null ? (cur as Json)[k] : undefined;
  return cur;
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${componentName(name)}` });

/** The reverse of the generator's rewrite, written out separately: component refs back to file refs. */
function backToFile(node: unknown, inCommon: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => backToFile(n, inCommon));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => {
      if (k !== '$ref') return [k, backToFile(v, inCommon)];
      const def = defNames.find((d) => `#/components/schemas/${componentName(d)}` === v);
      expect(def, `no $defs entry for ${String(v)}`).toBeDefined();
      return [k, `${inCommon ? '' : 'common.schema.json'}#/$defs/${def}`];
    }),
  );
}

function* refs(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const n of node) yield* refs(n);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') yield v;
      else yield* refs(v);
    }
  }
}

describe('schemas/driver/openapi.json', () => {
  it('is what harness/driver/openapi.ts generates', () => {
    expect(committed).toEqual(buildOpenApi());
  });

  it('is OpenAPI 3.1 of this contract version, with JSON Schema 2020-12', () => {
    expect(committed.openapi).toBe('3.1.0');
    expect(committed.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    expect((committed.info as Json).version).toBe(DRIVER_CONTRACT_VERSION);
  });

  it('has every endpoint, with its method, operation id and schemas, and nothing else', () => {
    const paths = committed.paths as Record<string, Json>;
    expect(Object.keys(paths).sort()).toEqual(
      Object.values(ENDPOINTS)
        .map((e) => e.path)
        .sort(),
    );
    for (const [endpoint, { method, path }] of Object.entries(ENDPOINTS)) {
      const item = paths[path] ?? {};
      expect(Object.keys(item), path).toEqual([method.toLowerCase()]);
      const op = item[method.toLowerCase()] as Json;
      const { request, response } = ENDPOINT_SCHEMAS[endpoint as keyof typeof ENDPOINTS];
      expect(op.operationId).toBe(endpoint);
      expect(at(op, 'requestBody', 'content', 'application/json', 'schema'), path).toEqual(
        request && ref(request),
      );
      expect(at(op, 'responses', '200', 'content', 'application/json', 'schema'), path).toEqual(
        ref(response),
      );
      expect(at(op, 'responses', 'default'), path).toEqual({ $ref: '#/components/responses/Error' });
    }
    const events = at(paths, '/v1/events', 'get', 'parameters') as Json[];
    expect(events.map((p) => [p.name, p.in, p.required])).toEqual([
      ['after', 'query', true],
      ['wait', 'query', true],
    ]);
  });

  it('carries each schema file unchanged but for its $id, $schema and $refs', () => {
    expect(Object.keys(components).sort()).toEqual(
      [...DRIVER_SCHEMAS, ...defNames].map(componentName).sort(),
    );
    for (const name of DRIVER_SCHEMAS) {
      const { $id: _id, $schema: _s, ...file } = read(`${name}.schema.json`);
      expect(backToFile(components[componentName(name)], false), name).toEqual(file);
    }
    for (const def of defNames) {
      expect(backToFile(components[componentName(def)], true), def).toEqual((common.$defs as Json)[def]);
    }
  });

  it('has no dangling $ref', () => {
    const responses = (committed.components as Json).responses as Json;
    for (const r of refs(committed)) {
      const [, kind, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(r) ?? [];
      expect(kind && name && Object.hasOwn(kind === 'schemas' ? components : responses, name), r).toBe(true);
    }
  });

  it('validates like the schema files: every example, and a bad body, give the same verdicts', () => {
    // The components as one strict 2020-12 schema, their refs pointed at its $defs.
    const text = JSON.stringify({
      $id: 'https://interop-cert.dev/schemas/driver/openapi-components',
      $defs: components,
    }).replaceAll('"#/components/schemas/', '"#/$defs/');
    const ajv = createAjv();
    ajv.addSchema(JSON.parse(text));
    for (const name of DRIVER_SCHEMAS) {
      const validate = ajv.getSchema(
        `https://interop-cert.dev/schemas/driver/openapi-components#/$defs/${componentName(name)}`,
      );
      expect(validate, name).toBeDefined();
      const bodies = [...(read(`${name}.schema.json`).examples as unknown[]), {}, { unexpected: 1 }];
      for (const body of bodies) {
        expect(validate?.(body), `${name} ${JSON.stringify(body)}`).toBe(
          validateDriver(name, body).length === 0,
        );
      }
    }
  });
});
