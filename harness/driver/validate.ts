// Driver contract validation: one ajv registry for schemas/driver/, and validateDriver(name, body)
// -> the problems, each with a JSON pointer a vendor can find in their own answer.
//
// The unions (events by `type`, send content by `type`, media by `base64`/`fixture`) are oneOf
// lists, which OpenAPI generators turn into proper tagged unions. ajv reports a failed oneOf as
// the failures of every branch at once; we pick the branch the data says it is and report that
// branch's failures alone, so "event 3 misses `reason`" is not buried under seven other types.

import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { HarnessError } from '../codes.ts';
import { createAjv } from '../schema/ajv.ts';
import type { Endpoint } from './contract.ts';

export const DRIVER_SCHEMA_DIR = new URL('../../schemas/driver/', import.meta.url);
export const DRIVER_SCHEMA_BASE = 'https://interop-cert.dev/schemas/driver/';

/** Every body schema: `schemas/driver/<name>.schema.json`. `common` holds the shared `$defs`. */
export const DRIVER_SCHEMAS = [
  'manifest',
  'empty-request',
  'connect-request',
  'connect-response',
  'send-request',
  'send-response',
  'read-request',
  'typing-request',
  'block-request',
  'ok-response',
  'events-response',
  'error-response',
] as const;
export type DriverSchemaName = (typeof DRIVER_SCHEMAS)[number];

export const COMMON_SCHEMA = 'common' as const;

/** Which schema each endpoint's request and answer have (GETs take no body). */
export const ENDPOINT_SCHEMAS: {
  readonly [E in Endpoint]: { readonly request?: DriverSchemaName; readonly response: DriverSchemaName };
} = {
  manifest: { response: 'manifest' },
  reset: { request: 'empty-request', response: 'ok-response' },
  connect: { request: 'connect-request', response: 'connect-response' },
  disconnect: { request: 'empty-request', response: 'ok-response' },
  send: { request: 'send-request', response: 'send-response' },
  read: { request: 'read-request', response: 'ok-response' },
  typing: { request: 'typing-request', response: 'ok-response' },
  block: { request: 'block-request', response: 'ok-response' },
  unblock: { request: 'block-request', response: 'ok-response' },
  events: { response: 'events-response' },
};

export const schemaId = (name: DriverSchemaName | typeof COMMON_SCHEMA): string =>
  `${DRIVER_SCHEMA_BASE}${name}.schema.json`;

export interface DriverProblem {
  /** JSON pointer into the body; `/` is the body itself. */
  readonly path: string;
  readonly message: string;
}

type SchemaNode = { readonly [k: string]: unknown };

interface Registry {
  readonly ajv: ReturnType<typeof createAjv>;
  /** Raw schema documents by `$id`, for walking to the schema at an instance path. */
  readonly documents: ReadonlyMap<string, SchemaNode>;
  readonly validators: Map<string, ValidateFunction>;
}

let registry: Registry | undefined;

/** Loads and compiles the driver schemas once; HRN_ERR_SCHEMA_COMPILE if one is missing or broken. */
export function driverRegistry(): Registry {
  if (registry) return registry;
  const ajv = createAjv();
  const documents = new Map<string, SchemaNode>();
  const validators = new Map<string, ValidateFunction>();
  try {
    for (const name of [COMMON_SCHEMA, ...DRIVER_SCHEMAS] as const) {
      const doc = JSON.parse(
        readFileSync(new URL(`${name}.schema.json`, DRIVER_SCHEMA_DIR), 'utf8'),
      ) as SchemaNode;
      if (doc.$id !== schemaId(name)) throw new Error(`${name}.schema.json has $id ${String(doc.$id)}`);
      documents.set(schemaId(name), doc);
      ajv.addSchema(doc);
    }
    for (const name of DRIVER_SCHEMAS) {
      const fn = ajv.getSchema(schemaId(name));
      if (!fn) throw new Error(`${name}.schema.json did not compile`);
      validators.set(schemaId(name), fn);
    }
  } catch (e) {
    throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `driver schemas: ${(e as Error).message}`, { cause: e });
  }
  registry = { ajv, documents, validators };
  return registry;
}

/** The problems of `body` against a driver schema; empty when it is valid. */
export function validateDriver(name: DriverSchemaName, body: unknown): DriverProblem[] {
  const reg = driverRegistry();
  const id = schemaId(name);
  const root = reg.documents.get(id);
  const validate = reg.validators.get(id);
  if (!root || !validate) throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `no driver schema ${name}`);
  return explain(reg, validate, { node: root, base: id }, body, '');
}

/** `path: message` lines joined for an error message, at most `max` of them. */
export function describeProblems(problems: readonly DriverProblem[], max = 8): string {
  const shown = problems.slice(0, max).map((p) => `${p.path} ${p.message}`);
  const more = problems.length > max ? `; and ${problems.length - max} more` : '';
  return shown.join('; ') + more;
}

interface Located {
  readonly node: SchemaNode;
  /** The absolute `$id` (with fragment) refs inside `node` resolve against. */
  readonly base: string;
}

function explain(reg: Registry, validate: ValidateFunction, at: Located, data: unknown, prefix: string) {
  if (validate(data)) return [];
  const errors = [...(validate.errors ?? [])];
  const problems: DriverProblem[] = [];
  // Shallowest unions first: a branch re-validated whole covers everything beneath it.
  const unions = [...new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath))].sort(
    (a, b) => a.length - b.length,
  );
  const handled: string[] = [];
  for (const path of unions) {
    if (handled.some((h) => under(path, h))) continue;
    handled.push(path);
    problems.push(...explainUnion(reg, at, path, pointerGet(data, path), prefix));
  }
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if' || handled.some((h) => under(e.instancePath, h))) continue;
    const p = toProblem(e, data, prefix);
    const key = `${p.path} ${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  return problems;
}

/** The failures of the one branch of a oneOf that `value` claims to be. */
function explainUnion(reg: Registry, root: Located, path: string, value: unknown, prefix: string) {
  const where = prefix + path || '/';
  const union = schemaAt(reg, root, path);
  const branches = Array.isArray(union?.node.oneOf) ? (union.node.oneOf as SchemaNode[]) : [];
  if (!union || branches.length === 0) return [{ path: where, message: 'matches none of its alternatives' }];
  if (!isObject(value)) return [{ path: where, message: `must be an object${got(value)}` }];
  const located = branches.map((b) => deref(reg, { node: b, base: union.base }));
  const tags = located.map((b) => constOf(b.node, 'type'));
  let pick: Located | undefined;
  if (tags.every((t) => t !== undefined)) {
    pick = located[tags.indexOf(value.type as string)];
    if (!pick)
      return [
        {
          path: `${where === '/' ? '' : where}/type`,
          message: `must be one of ${tags.join(', ')}${got(value.type)}`,
        },
      ];
  } else {
    // Branches told apart by a member only they require (`base64` or `fixture`).
    const keys = located.map((b, i) => ownRequired(b.node, located, i));
    const matching = located.filter((_, i) => keys[i]?.some((k) => Object.hasOwn(value, k)));
    if (matching.length !== 1) {
      const names = keys.flat().join(', ');
      return [{ path: where, message: `must have exactly one of ${names}` }];
    }
    pick = matching[0];
  }
  if (!pick) return [];
  const id = pick.base;
  let fn = reg.validators.get(id);
  if (!fn) {
    fn = reg.ajv.getSchema(id);
    if (!fn) return [{ path: where, message: `cannot compile ${id}` }];
    reg.validators.set(id, fn);
  }
  return explain(reg, fn, pick, value, prefix + path);
}

/** Follows `$ref`s; the result's base names the node itself (document `$id` + pointer). */
function deref(reg: Registry, at: Located): Located {
  let cur = at;
  for (let hops = 0; typeof cur.node.$ref === 'string' && hops < 16; hops++) {
    const target = new URL(cur.node.$ref, cur.base).href;
    const [doc, fragment = ''] = target.split('#');
    let node: unknown = reg.documents.get(doc ?? '');
    for (const seg of fragment.split('/').slice(1))
      node = isObject(node) ? node[unescapePointer(seg)] : undefined;
    if (!isObject(node)) return cur;
    cur = { node, base: target };
  }
  return cur;
}

/** The schema that applies at an instance path, through properties, items and `$ref`. */
function schemaAt(reg: Registry, root: Located, path: string): Located | undefined {
  let cur = deref(reg, root);
  for (const seg of segments(path)) {
    const props = cur.node.properties;
    let next: unknown;
    let pointer: string;
    if (isObject(props) && Object.hasOwn(props, seg)) {
      next = props[seg];
      pointer = `/properties/${seg}`;
    } else if (/^[0-9]+$/.test(seg) && isObject(cur.node.items)) {
      next = cur.node.items;
      pointer = '/items';
    } else return undefined;
    if (!isObject(next)) return undefined;
    cur = deref(reg, { node: next, base: appendPointer(cur.base, pointer) });
  }
  return cur;
}

function appendPointer(base: string, pointer: string): string {
  return base.includes('#') ? base + pointer : `${base}#${pointer}`;
}

function constOf(node: SchemaNode, key: string): string | undefined {
  const props = node.properties;
  const p = isObject(props) ? props[key] : undefined;
  return isObject(p) && typeof p.const === 'string' ? p.const : undefined;
}

function ownRequired(node: SchemaNode, all: readonly Located[], index: number): string[] {
  const req = (n: SchemaNode) => (Array.isArray(n.required) ? (n.required as string[]) : []);
  return req(node).filter((k) => all.every((o, j) => j === index || !req(o.node).includes(k)));
}

function toProblem(e: ErrorObject, data: unknown, prefix: string): DriverProblem {
  const base = prefix + e.instancePath;
  const path = base || '/';
  const value = pointerGet(data, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: `${base}/${String(params.missingProperty)}`, message: 'is missing' };
    case 'additionalProperties':
      return {
        path: `${base}/${String(params.additionalProperty)}`,
        message: 'is not a member the contract defines',
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${got(value)}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}${got(value)}` };
    case 'pattern':
      return { path, message: `must match ${String(params.pattern)}${got(value)}` };
    default:
      return { path, message: `${e.message ?? e.keyword}${got(value)}` };
  }
}

/** ` (got "x")` for a short scalar, so the message shows what was wrong without the whole body. */
function got(value: unknown): string {
  if (value === undefined) return '';
  if (value === null || typeof value === 'number' || typeof value === 'boolean')
    return ` (got ${String(value)})`;
  if (typeof value === 'string') {
    return value.length <= 64
      ? ` (got ${JSON.stringify(value)})`
      : ` (got a string of ${value.length} characters)`;
  }
  return Array.isArray(value) ? ' (got an array)' : ' (got an object)';
}

function under(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.split('/').slice(1).map(unescapePointer);
}

function unescapePointer(s: string): string {
  return s.replaceAll('~1', '/').replaceAll('~0', '~');
}

function pointerGet(data: unknown, pointer: string): unknown {
  let cur = data;
  for (const seg of segments(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    else return undefined;
  }
  return cur;
}

function isObject(v: unknown): v is { readonly [k: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
