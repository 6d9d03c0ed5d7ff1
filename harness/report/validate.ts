// Report files are checked against their schemas (schemas/report/) before they are written and
// when they are read back: a reviewer or a CI job may rely on every line of results.jsonl and on
// summary.json having the documented shape. A file that does not is refused with
// HRN_ERR_REPORT_INVALID, naming the first problems.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { HarnessError } from '../codes.ts';
import type { Ajv2020 } from '../schema/ajv.ts';
import { createAjv } from '../schema/ajv.ts';

/** `summary-meta` is the `meta` member of a summary alone (what `report DIR` reads back). */
export type ReportSchema = 'result' | 'summary' | 'summary-meta';

const FILES = ['result', 'summary'] as const;
const BASE = 'https://interop-cert.dev/schemas/report/';
const REFS: Readonly<Record<ReportSchema, string>> = {
  result: `${BASE}result.schema.json`,
  summary: `${BASE}summary.schema.json`,
  'summary-meta': `${BASE}summary.schema.json#/$defs/meta`,
};

let ajv: Ajv2020 | undefined;
const compiled = new Map<ReportSchema, ValidateFunction>();

export function reportSchemaPath(name: (typeof FILES)[number]): string {
  return fileURLToPath(new URL(`../../schemas/report/${name}.schema.json`, import.meta.url));
}

function validator(name: ReportSchema): ValidateFunction {
  let v = compiled.get(name);
  if (v) return v;
  try {
    if (!ajv) {
      const a = createAjv();
      for (const f of FILES) a.addSchema(JSON.parse(readFileSync(reportSchemaPath(f), 'utf8')) as object);
      ajv = a;
    }
    v = ajv.getSchema(REFS[name]);
  } catch (e) {
    throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `schemas/report: ${String(e)}`, { cause: e });
  }
  if (!v) throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `schemas/report: no schema ${REFS[name]}`);
  compiled.set(name, v);
  return v;
}

/** The schema problems of `value`, one line each; empty when it conforms. */
export function reportProblems(name: ReportSchema, value: unknown): string[] {
  const v = validator(name);
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

/** Throws HRN_ERR_REPORT_INVALID unless `value` conforms; `what` names it in the message. */
export function assertReport(name: ReportSchema, value: unknown, what: string): void {
  const problems = reportProblems(name, value);
  if (problems.length > 0) {
    throw new HarnessError(
      'HRN_ERR_REPORT_INVALID',
      `${what} breaks ${REFS[name].slice(BASE.length)}: ${problems.slice(0, 5).join('; ')}`,
    );
  }
}
