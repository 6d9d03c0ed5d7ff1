// The vitest config Stryker runs (stryker.config.json): the project's config, narrowed to the
// tests of the mutated modules, so each mutant runs seconds of tests rather than the suite.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'harness/schema/*.test.ts',
      'fixtures/stanzas/fixtures.test.ts',
      'harness/scenario/runner.test.ts',
      'harness/scenario/helpers.test.ts',
      'harness/scenario/*.mutation.test.ts',
      'harness/crypto/media*.test.ts',
      'fixtures/media/media-fixtures.test.ts',
    ],
  },
});
