// Stanza validation: classify, then check against the kind's JSON Schema, and turn ajv's
// errors into coded violations with a stanza path a person can read.

import { readdirSync, readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ViolationCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';
import type { StanzaNode } from '../xml/node.ts';
import { createAjv } from './ajv.ts';
import { STANZA_FORMATS } from './formats.ts';
import type { Classification, Direction, StanzaKind } from './kinds.ts';
import { classify, STANZA_KINDS } from './kinds.ts';
import { stanzaPointer, toView } from './view.ts';

export interface StanzaViolation {
  readonly code: ViolationCode;
  /** The stanza kind (e.g. `receipt.retry`), or `unknown` when it could not be classified. */
  readonly kind: StanzaKind | 'unknown';
  /** Where in the stanza: `/iq/list/key[3]/id`, `/message/enc@type`. */
  readonly pointer: string;
  readonly message: string;
}

export interface ValidateOptions {
  /** The direction the stanza travelled. Without it, the direction is read off the stanza. */
  readonly direction?: Direction;
  /** Base64 text already at hand for bytes of the node (from the parse), not encoded again. */
  readonly knownBase64?: ReadonlyMap<Uint8Array, string>;
}

const SCHEMA_DIR = new URL('../../schemas/stanzas/', import.meta.url);
const ID_BASE = 'https://interop-cert.dev/schemas/stanzas/';

type Registry = ReadonlyMap<StanzaKind, Partial<Record<Direction, ValidateFunction>>>;
let registry: Registry | undefined;

/** Compiles every stanza schema once. Throws HRN_ERR_SCHEMA_COMPILE if one is missing or broken. */
export function stanzaRegistry(): Registry {
  if (registry) return registry;
  const ajv = createAjv();
  for (const [name, f] of Object.entries(STANZA_FORMATS)) ajv.addFormat(name, f.validate);
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'));
  try {
    // Stryker disable next-line StringLiteral: JSON.parse decodes a Buffer as UTF-8 too, so no test can tell.
    for (const file of files) ajv.addSchema(JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')));
  } catch (e) {
    throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `stanza schemas: ${(e as Error).message}`, { cause: e });
  }
  const map = new Map<StanzaKind, Partial<Record<Direction, ValidateFunction>>>();
  for (const kind of STANZA_KINDS) {
    const id = `${ID_BASE}${kind}.schema.json`;
    const entry: Partial<Record<Direction, ValidateFunction>> = {};
    for (const dir of ['c2s', 's2c'] as const) {
      try {
        // undefined when the kind has no schema file, or its file no definition for this direction
        entry[dir] = ajv.getSchema(`${id}#/$defs/${dir}`);
      } catch (e) {
        throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `${kind} ${dir}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    if (!entry.c2s && !entry.s2c)
      throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `no schema for stanza kind ${kind}`);
    map.set(kind, entry);
  }
  registry = map;
  return map;
}

export function validateStanza(
  node: StanzaNode,
  options: ValidateOptions = {},
  classification: Classification = classify(node),
): StanzaViolation[] {
  const c = classification;
  const root = `/${node.tag}`;
  if (!c.ok) return [{ code: 'VIO_STANZA_UNKNOWN_KIND', kind: 'unknown', pointer: root, message: c.reason }];
  const direction = options.direction ?? c.direction;
  // Stryker disable next-line OptionalChaining: the registry has an entry for every kind or throws.
  const validate = stanzaRegistry().get(c.kind)?.[direction];
  if (!validate) {
    const where = direction === 'c2s' ? 'from a client' : 'from the server';
    return [
      {
        code: 'VIO_STANZA_WRONG_DIRECTION',
        kind: c.kind,
        pointer: root,
        message: `${c.kind} is never sent ${where}`,
      },
    ];
  }
  if (validate(toView(node, options.knownBase64))) return [];
  // Stryker disable next-line ArrayDeclaration: ajv always sets errors when validation fails.
  return toViolations(c.kind, node.tag, validate.errors ?? []);
}

function toViolations(kind: StanzaKind, rootTag: string, errors: readonly ErrorObject[]): StanzaViolation[] {
  const out: StanzaViolation[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const v = toViolation(kind, rootTag, e);
    if (!v) continue;
    const key = `${v.code} ${v.pointer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

/** What the instance path points at: an attribute map, a children map, or (undefined) a node. */
function container(path: string): 'attrs' | 'children' | undefined {
  if (path.endsWith('/attrs')) return 'attrs';
  if (path.endsWith('/children')) return 'children';
  return undefined;
}

function toViolation(kind: StanzaKind, rootTag: string, e: ErrorObject): StanzaViolation | undefined {
  const at = (code: ViolationCode, pointer: string, message: string): StanzaViolation => ({
    code,
    kind,
    pointer,
    message,
  });
  const path = e.instancePath;
  const here = stanzaPointer(rootTag, path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'if':
      return undefined; // the failing branch reports the real problem
    case 'required': {
      const name = String(p.missingProperty);
      const where = container(path);
      if (where === 'attrs')
        return at('VIO_SCHEMA_MISSING_ATTR', `${here}@${name}`, `missing attribute "${name}"`);
      if (where === 'children')
        return at('VIO_SCHEMA_MISSING_CHILD', `${here}/${name}`, `missing child <${name}>`);
      if (name === 'bytes') return at('VIO_SCHEMA_MISSING_CONTENT', here, 'the element must carry bytes');
      return at('VIO_SCHEMA_MISSING_CHILD', here, 'the element must have child elements');
    }
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const where = container(path);
      if (where === 'attrs')
        return at('VIO_SCHEMA_UNEXPECTED_ATTR', `${here}@${name}`, `unexpected attribute "${name}"`);
      if (where === 'children')
        return at('VIO_SCHEMA_UNEXPECTED_CHILD', `${here}/${name}`, `unexpected child <${name}>`);
      if (name === 'bytes')
        return at('VIO_SCHEMA_UNEXPECTED_CONTENT', here, 'the element must not carry bytes');
      return at('VIO_SCHEMA_UNEXPECTED_CHILD', here, 'the element must not have child elements');
    }
    case 'false schema': {
      const parent = path.slice(0, path.lastIndexOf('/'));
      if (container(parent) === 'attrs')
        return at('VIO_SCHEMA_UNEXPECTED_ATTR', here, 'attribute not allowed here');
      return at('VIO_SCHEMA_UNEXPECTED_CHILD', here, 'element not allowed here');
    }
    case 'enum':
    case 'const':
    case 'pattern': {
      const allowed = 'allowedValues' in p ? (p.allowedValues as unknown[]) : [p.allowedValue ?? p.pattern];
      return at(
        'VIO_SCHEMA_BAD_ATTR_VALUE',
        here,
        `value not allowed; expected ${allowed.map(String).join(' | ')}`,
      );
    }
    case 'format': {
      const name = String(p.format) as keyof typeof STANZA_FORMATS;
      const f = STANZA_FORMATS[name];
      return at(f?.code ?? 'VIO_SCHEMA_BAD_ATTR_VALUE', here, `expected ${f?.description ?? name}`);
    }
    case 'minItems':
    case 'maxItems': {
      const tag = path.slice(path.lastIndexOf('/') + 1);
      const bound = e.keyword === 'minItems' ? 'at least' : 'at most';
      return at('VIO_SCHEMA_CHILD_COUNT', here, `${bound} ${String(p.limit)} <${tag}> allowed here`);
    }
    case 'minProperties':
    case 'maxProperties': {
      const bound = e.keyword === 'minProperties' ? 'at least' : 'at most';
      return at(
        'VIO_SCHEMA_CHILD_COUNT',
        here,
        `${bound} ${String(p.limit)} kind(s) of child element allowed here`,
      );
    }
    case 'maxLength':
      return at('VIO_SCHEMA_TOO_LARGE', here, `longer than ${String(p.limit)} characters`);
    default:
      return at('VIO_SCHEMA_BAD_ATTR_VALUE', here, e.message ?? e.keyword);
  }
}
