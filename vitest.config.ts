import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { AREAS, CRYPTO_PROFILES, REQUIREMENT_LEVELS } from './harness/requirements/types.ts';

// Scenario tests are tagged by area, level and crypto profile (`--tags`), so a run can select,
// say, only the MUST scenarios of the E2EE area.
const tags = [
  ...AREAS.map((a) => ({ name: a.toLowerCase(), description: `scenarios of the ${a} area` })),
  ...REQUIREMENT_LEVELS.map((l) => ({ name: l.toLowerCase(), description: `scenarios asserting ${l}` })),
  ...CRYPTO_PROFILES.map((p) => ({ name: p, description: `runs under ${p}` })),
];

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'suites/**/*.test.ts', 'fixtures/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    tags,
    // Tests sign their runs with a key of their own, never the installation's, and build no
    // report.html (3 to 8 s of Java each); the HTML and browser tests build theirs directly.
    env: {
      INTEROP_CERT_HOME: join(tmpdir(), 'interop-cert-test-home'),
      INTEROP_REPORT_HTML: 'off',
    },
  },
});
