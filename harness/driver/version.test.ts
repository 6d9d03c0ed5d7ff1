// The contract version has two homes, package.json (for vendors and tools that read it without
// running TypeScript) and contract.ts (for the code); they must never disagree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRIVER_CONTRACT_VERSION } from './contract.ts';

describe('driver contract version', () => {
  it('is the same in package.json and contract.ts', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      driverContractVersion?: unknown;
    };
    expect(pkg.driverContractVersion).toBe(DRIVER_CONTRACT_VERSION);
  });

  it('is MAJOR.MINOR', () => {
    expect(DRIVER_CONTRACT_VERSION).toMatch(/^[0-9]+\.[0-9]+$/);
  });
});
