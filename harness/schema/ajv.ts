// One way to build an ajv instance, so every schema in the project is compiled with the same
// dialect (JSON Schema 2020-12) and the same strictness.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FormatsPlugin } from 'ajv-formats';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsImport as unknown as FormatsPlugin;

export type { Ajv2020 };

export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: false });
  addFormats(ajv, ['date', 'date-time', 'uri', 'email']);
  return ajv;
}
