// Finds and loads scenario files: suites/<area>/<topic>/<ID>.<slug>.scenario.ts, each a plain
// module whose default export is a defineScenario result. Loading runs no scenario.

import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyScenario } from './define.ts';

export const SUITES_DIR = new URL('../../suites/', import.meta.url).pathname;
const FILE = /\.scenario\.ts$/;

export interface LoadedScenario {
  readonly file: string;
  readonly scenario: AnyScenario;
}

export function scenarioFiles(root = SUITES_DIR): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => FILE.test(f))
    .map((f) => join(root, f))
    .sort();
}

export async function loadScenarios(root = SUITES_DIR): Promise<LoadedScenario[]> {
  const out: LoadedScenario[] = [];
  for (const file of scenarioFiles(root)) {
    const mod = (await import(pathToFileURL(file).href)) as { default?: AnyScenario };
    if (!mod.default) throw new Error(`${relative(root, file)} has no default export`);
    out.push({ file: relative(root, file).split(sep).join('/'), scenario: mod.default });
  }
  return out;
}
