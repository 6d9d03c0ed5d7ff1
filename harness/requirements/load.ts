// Loads and checks the requirement catalogue (suites/requirements.yml).
//
// The schema checks each entry's shape; this module checks what a schema cannot: ids are unique
// and numbered without gaps within their area, an id's area matches its `area`, every cited
// document exists, and sections of documents that list their sections are among them. Any
// problem refuses the whole catalogue, listing every problem with HRN_ERR_CATALOGUE_INVALID.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { HarnessError } from '../codes.ts';
import { createAjv } from '../schema/ajv.ts';
import type { Catalogue, Requirement, SourceDocument } from './types.ts';

export type {
  Area,
  BugClass,
  Catalogue,
  CryptoProfileId,
  Direction,
  Feature,
  Requirement,
  RequirementId,
  RequirementLevel,
  RequirementSource,
  SourceDocument,
} from './types.ts';
export { AREAS, BUG_CLASSES, CRYPTO_PROFILES, DIRECTIONS, FEATURES, REQUIREMENT_LEVELS } from './types.ts';

export const CATALOGUE_INVALID = 'HRN_ERR_CATALOGUE_INVALID';

export const DEFAULT_CATALOGUE_PATH = fileURLToPath(
  new URL('../../suites/requirements.yml', import.meta.url),
);
export const CATALOGUE_SCHEMA_PATH = fileURLToPath(
  new URL('../../schemas/report/requirements.schema.json', import.meta.url),
);

/** The catalogue was refused; `problems` lists each reason, one line each. */
export class CatalogueError extends HarnessError {
  readonly problems: readonly string[];
  constructor(path: string, problems: readonly string[]) {
    const lines = problems.map((p) => `  ${CATALOGUE_INVALID} ${p}`);
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(CATALOGUE_INVALID, `requirement catalogue ${path} is invalid (${count}):\n${lines.join('\n')}`);
    this.name = 'CatalogueError';
    this.problems = problems;
  }
}

interface RawCatalogue {
  version: 1;
  documents: SourceDocument[];
  requirements: Requirement[];
}

let validator: ValidateFunction | undefined;
let defaultCatalogue: Catalogue | undefined;

function schemaValidator(): ValidateFunction {
  if (validator === undefined) {
    const schema: unknown = JSON.parse(readFileSync(CATALOGUE_SCHEMA_PATH, 'utf8'));
    try {
      validator = createAjv().compile(schema as object);
    } catch (err) {
      throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `${CATALOGUE_SCHEMA_PATH}: ${String(err)}`, {
        cause: err,
      });
    }
  }
  return validator;
}

/**
 * Reads, validates and checks a requirement catalogue. Without a path, loads the repository's
 * `suites/requirements.yml` once and returns the same catalogue on every later call.
 */
export function loadCatalogue(path?: string): Catalogue {
  if (path === undefined) {
    defaultCatalogue ??= readCatalogue(DEFAULT_CATALOGUE_PATH);
    return defaultCatalogue;
  }
  return readCatalogue(path);
}

function readCatalogue(path: string): Catalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CatalogueError(path, [`cannot be read: ${(err as Error).message}`]);
  }

  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CatalogueError(
      path,
      doc.errors.map((e) => `YAML ${e.code}: ${e.message.split('\n')[0]}`),
    );
  }
  const data: unknown = doc.toJS();

  const validate = schemaValidator();
  if (!validate(data)) {
    throw new CatalogueError(path, (validate.errors ?? []).map(describeSchemaError));
  }
  const raw = data as RawCatalogue;

  const problems = semanticProblems(raw);
  if (problems.length > 0) throw new CatalogueError(path, problems);

  return buildCatalogue(path, raw);
}

function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '/' : e.instancePath;
  const params = e.params as Record<string, unknown>;
  let detail = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties')
    detail = `has unknown property "${String(params.additionalProperty)}"`;
  else if (e.keyword === 'enum') detail = `must be one of ${JSON.stringify(params.allowedValues)}`;
  else if (e.keyword === 'const') detail = `must be ${JSON.stringify(params.allowedValue)}`;
  return `${where}: ${detail}`;
}

const ID_PATTERN = /^REQ-([A-Z0-9]+)-(\d{3})$/;

/** The checks a JSON Schema cannot express. Returns every problem found. */
export function semanticProblems(raw: RawCatalogue): string[] {
  const problems: string[] = [];

  const documents = new Map<string, SourceDocument>();
  for (const [i, d] of raw.documents.entries()) {
    if (documents.has(d.id)) problems.push(`/documents/${i}: duplicate document id ${d.id}`);
    else documents.set(d.id, d);
  }

  const seen = new Map<string, number>();
  const numbersByArea = new Map<string, number[]>();
  for (const [i, r] of raw.requirements.entries()) {
    const at = `/requirements/${i} (${r.id})`;

    const first = seen.get(r.id);
    if (first !== undefined) problems.push(`${at}: duplicate id, first used at /requirements/${first}`);
    else seen.set(r.id, i);

    const m = ID_PATTERN.exec(r.id);
    if (m === null) {
      problems.push(`${at}: id is not of the form REQ-AREA-NNN`);
    } else {
      const [, idArea = '', digits = ''] = m;
      if (idArea !== r.area) problems.push(`${at}: id names area ${idArea} but area is ${r.area}`);
      const n = Number(digits);
      if (n === 0) problems.push(`${at}: numbers start at 001`);
      const list = numbersByArea.get(r.area) ?? [];
      list.push(n);
      numbersByArea.set(r.area, list);
    }

    const doc = documents.get(r.source.document);
    if (doc === undefined) {
      problems.push(`${at}: source.document ${r.source.document} is not in documents`);
    } else if (doc.sections !== undefined && !doc.sections.includes(r.source.section)) {
      problems.push(`${at}: section "${r.source.section}" is not a section of ${doc.id}`);
    }

    if (r.replacedBy !== undefined && r.replacedBy === r.id) problems.push(`${at}: replacedBy names itself`);
  }

  for (const [i, r] of raw.requirements.entries()) {
    if (r.replacedBy !== undefined && !seen.has(r.replacedBy)) {
      problems.push(`/requirements/${i} (${r.id}): replacedBy ${r.replacedBy} is not in the catalogue`);
    }
  }

  // Ids are never renumbered and retired ones stay, so each area counts 001, 002, ... with no gap.
  for (const [area, numbers] of numbersByArea) {
    const present = new Set(numbers);
    const max = Math.max(...numbers);
    const missing: string[] = [];
    for (let n = 1; n <= max; n++) {
      if (!present.has(n)) missing.push(`REQ-${area}-${String(n).padStart(3, '0')}`);
    }
    if (missing.length > 0) {
      problems.push(`area ${area}: numbering has gaps (${missing.join(', ')} missing); retire ids instead`);
    }
  }

  return problems;
}

function buildCatalogue(path: string, raw: RawCatalogue): Catalogue {
  const requirements = Object.freeze([...raw.requirements]);
  const documents = Object.freeze([...raw.documents]);
  const reqIndex = new Map(requirements.map((r) => [r.id as string, r]));
  const docIndex = new Map(documents.map((d) => [d.id, d]));
  return Object.freeze({
    version: 1 as const,
    path,
    documents,
    requirements,
    byId: (id: string) => reqIndex.get(id),
    documentById: (id: string) => docIndex.get(id),
  });
}
