// docs/DRIVER.md is what vendors implement from, so it must not drift from the code: every JSON
// example is valid against the schema it names, every endpoint, event, reason, feature and
// driver error is described, the limits are the client's, and the fixture table is the files.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from '../codes.ts';
import { FEATURES } from '../requirements/types.ts';
import { ENDPOINTS } from './contract.ts';
import { DRIVER_DEFAULTS, MAX_WAIT_MS } from './core.ts';
import type { DriverSchemaName } from './validate.ts';
import { DRIVER_SCHEMA_DIR, DRIVER_SCHEMAS, validateDriver } from './validate.ts';

const doc = readFileSync(new URL('../../docs/DRIVER.md', import.meta.url), 'utf8');
const common = JSON.parse(readFileSync(new URL('common.schema.json', DRIVER_SCHEMA_DIR), 'utf8')) as {
  $defs: Record<string, { enum?: string[]; oneOf?: { $ref: string }[] }>;
};

/** The table row whose first cell is `first`, as its cells. */
function row(first: string): string[] {
  const line = doc.split('\n').find((l) => l.startsWith(`| ${first} `) || l.startsWith(`| \`${first}\``));
  expect(line, `a table row for ${first}`).toBeDefined();
  return (line ?? '')
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

describe('docs/DRIVER.md', () => {
  it('has JSON examples that are valid against the schema each names', () => {
    const blocks = [...doc.matchAll(/^```json ([a-z-]+)\n([\s\S]*?)^```$/gm)];
    expect(blocks.length).toBeGreaterThan(10);
    const named = new Set<string>();
    for (const [, name = '', text = ''] of blocks) {
      expect(DRIVER_SCHEMAS as readonly string[], name).toContain(name);
      named.add(name);
      expect(validateDriver(name as DriverSchemaName, JSON.parse(text)), text).toEqual([]);
    }
    expect([...named].sort()).toEqual([...DRIVER_SCHEMAS].sort());
  });

  it('describes every endpoint, event type, reject reason, feature and driver error', () => {
    const headings = doc.split('\n').filter((l) => l.startsWith('### '));
    for (const { method, path } of Object.values(ENDPOINTS)) {
      expect(
        headings.some((h) => h.includes(`\`${method} ${path}`)),
        `${method} ${path}`,
      ).toBe(true);
    }
    const eventTypes = (common.$defs.event?.oneOf ?? []).map((b) => b.$ref.replace('#/$defs/event-', ''));
    for (const t of eventTypes) expect(row(t)[0], t).toBe(`\`${t}\``);
    for (const r of common.$defs['reject-reason']?.enum ?? []) expect(row(r)[0]).toBe(`\`${r}\``);
    for (const f of FEATURES) expect(row(f)[0]).toBe(`\`${f}\``);
    for (const code of Object.keys(CODES).filter((c) => c.startsWith('HRN_ERR_DRIVER_'))) {
      expect(row(code)[0]).toBe(`\`${code}\``);
    }
  });

  it('states the limits the client applies', () => {
    expect(row('time limit of a call')[1]).toBe(`${DRIVER_DEFAULTS.timeoutMs / 1000} s`);
    expect(row('time limit of `POST /v1/connect`')[1]).toMatch(
      new RegExp(`^${DRIVER_DEFAULTS.endpointTimeoutMs.connect / 1000} s`),
    );
    expect(row('time limit of `GET /v1/events`')[1]).toBe(
      `\`wait\` + ${DRIVER_DEFAULTS.longPollSlackMs / 1000} s`,
    );
    expect(row('largest answer read')[1]).toMatch(
      new RegExp(`^${DRIVER_DEFAULTS.maxBodyBytes / 1024 / 1024} MiB`),
    );
    expect(row('longest `wait`')[1]).toBe(`${MAX_WAIT_MS.toLocaleString('en').replace(',', ' ')} ms`);
    const d = DRIVER_DEFAULTS.retryDelayMs;
    expect(row('retries')[1]).toContain(
      `up to ${DRIVER_DEFAULTS.retries} more attempts, after ${d} ms and ${2 * d} ms`,
    );
  });

  it('lists the media fixtures with their real sizes and hashes', () => {
    for (const name of common.$defs['media-fixture-name']?.enum ?? []) {
      const bytes = readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url));
      const [, size, sha] = row(name);
      expect(size, name).toBe(String(bytes.length));
      expect(sha, name).toBe(`\`${createHash('sha256').update(bytes).digest('hex')}\``);
    }
  });
});
