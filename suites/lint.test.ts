// The suite lint on the real scenario files (npm test): well-formed, known requirements and
// features, every MUST requirement covered, and MUST coverage that only goes up (a retired or
// new requirement moves the total; the floor keeps the count honest). The coverage floor is an expectation file
// (suites/coverage.json): raise it when scenarios are added; the test fails if coverage drops
// below it.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../harness/requirements/load.ts';
import { lintScenarios } from '../harness/scenario/lint.ts';
import { loadScenarios } from '../harness/scenario/loader.ts';

const expected = JSON.parse(readFileSync(new URL('./coverage.json', import.meta.url), 'utf8')) as {
  mustCovered: number;
};

describe('suite lint', async () => {
  const report = lintScenarios(await loadScenarios(), loadCatalogue());

  it('finds no problem in any scenario file', () => {
    expect(report.problems).toEqual([]);
  });

  it('covers every MUST requirement of the catalogue with at least one scenario', () => {
    expect(report.uncovered).toEqual([]);
  });

  it('keeps MUST coverage at or above the recorded floor', () => {
    const covered = report.mustTotal - report.uncovered.length;
    expect(covered, `MUST coverage fell to ${covered}/${report.mustTotal}`).toBeGreaterThanOrEqual(
      expected.mustCovered,
    );
  });
});
