import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ViolationCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { Catalogue, RequirementId } from '../requirements/types.ts';
import { scenarioFiles } from '../scenario/loader.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import type { Waiver, WaiverOutcome } from './waivers.ts';
import { applyWaivers, exitCode, loadWaivers, WaiverError, waiverLines, waiverMarkdown } from './waivers.ts';

const catalogue = loadCatalogue();
const scenarioIds = scenarioFiles().map((f) => basename(f).split('.')[0] ?? '');
const fixtures = fileURLToPath(new URL('../../fixtures/waivers/', import.meta.url));
const now = new Date('2026-11-25T12:00:00Z');
const opts = { catalogue, scenarioIds, now };

function result(
  id: string,
  requirements: string[],
  outcome: Outcome,
  over: Partial<ScenarioResult> = {},
): ScenarioResult {
  return {
    id,
    variant: 'default',
    profile: 'signal-x3dh',
    outcome,
    level: 'MUST',
    requirements,
    findings: [],
    steps: [],
    notes: [],
    durationMs: 1,
    evidence: { transcript: [], events: [] },
    ...over,
  };
}

function finding(requirement: string, code: ViolationCode, level: 'MUST' | 'SHOULD' = 'MUST') {
  return { level, code, requirement: requirement as RequirementId, step: 'a step', message: 'm' };
}

function waiver(over: Partial<Waiver>): Waiver {
  return {
    index: 1,
    where: 'w.yml:3',
    reason: 'known',
    owner: 'team',
    expires: '2027-01-01',
    ...over,
  };
}

/** The error a call throws, for assertions on its code and message. */
function thrown(fn: () => unknown): HarnessError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error('expected a HarnessError');
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'waivers-')), name);
  writeFileSync(path, text);
  return path;
}

const head = 'version: 1\nwaivers:\n';

describe('loadWaivers', () => {
  it('reads a YAML file: every entry with its position, line and the file hash', () => {
    const path = join(fixtures, 'valid.yml');
    const set = loadWaivers(path, opts);
    expect(set.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(set.waivers).toEqual([
      {
        index: 1,
        where: `${path}:5`,
        scenario: 'TYPING-SEND-002',
        variant: 'recording',
        codes: ['VIO_TYPING_NOT_SENT'],
        reason: 'Recording state for voice notes ships in 4.2 (ticket APP-1312)',
        owner: 'messaging-team@example.com',
        expires: '2027-03-31',
      },
      {
        index: 2,
        where: `${path}:11`,
        requirement: 'REQ-RCPT-005',
        profile: 'signal-x3dh',
        reason: 'Played receipts are off on the legacy X3DH build until its retirement',
        owner: 'Dana Roe',
        expires: '2027-01-31',
      },
    ]);
  });

  it('reads a JSON file', () => {
    const set = loadWaivers(join(fixtures, 'valid.json'), opts);
    expect(set.waivers.map((w) => w.requirement)).toEqual(['REQ-KEYS-003']);
  });

  it('refuses an expired entry, naming it; the expiry day itself still counts', () => {
    const path = join(fixtures, 'expired.yml');
    const e = thrown(() => loadWaivers(path, opts));
    expect(e).toBeInstanceOf(WaiverError);
    expect(e.code).toBe('HRN_ERR_WAIVER_EXPIRED');
    expect(e.message).toContain(`waiver 2 (TYPING-SEND-002) at ${path}:8: expired on 2025-06-30`);
    expect(e.message).not.toContain('waiver 1');
    expect(loadWaivers(path, { ...opts, now: new Date('2025-06-30T23:59:59Z') }).waivers).toHaveLength(2);
    expect(thrown(() => loadWaivers(path, { ...opts, now: new Date('2025-07-01T00:00:00Z') })).code).toBe(
      'HRN_ERR_WAIVER_EXPIRED',
    );
  });

  it('refuses unknown scenario and requirement ids, listing each', () => {
    const e = thrown(() => loadWaivers(join(fixtures, 'unknown-id.yml'), opts)) as WaiverError;
    expect(e.code).toBe('HRN_ERR_WAIVER_UNKNOWN_ID');
    expect(e.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^waiver 1 \(E2EE-REPLAY-099\) at .*unknown-id\.yml:4: E2EE-REPLAY-099 is not a scenario$/,
      ),
      expect.stringMatching(
        /^waiver 2 \(REQ-E2EE-999\) at .*:8: REQ-E2EE-999 is not in the requirement catalogue$/,
      ),
    ]);
  });

  it('refuses a glob that matches no scenario, an unknown code and a retired requirement', () => {
    const path = tempFile(
      'w.yml',
      `${head}  - { scenario: "NOPE-*", reason: r, owner: o, expires: "2027-01-01" }\n` +
        `  - { scenario: E2EE-REPLAY-001, codes: [VIO_NOT_A_CODE], reason: r, owner: o, expires: "2027-01-01" }\n` +
        `  - { requirement: REQ-E2EE-006, reason: r, owner: o, expires: "2027-01-01" }\n`,
    );
    const real = catalogue.byId('REQ-E2EE-006');
    const retired: Catalogue = {
      ...catalogue,
      byId: (id) =>
        id === 'REQ-E2EE-006' && real
          ? { ...real, retired: true, replacedBy: 'REQ-E2EE-007' }
          : catalogue.byId(id),
    };
    const e = thrown(() => loadWaivers(path, { ...opts, catalogue: retired })) as WaiverError;
    expect(e.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('NOPE-* matches no scenario'),
      expect.stringContaining('VIO_NOT_A_CODE is not a violation code'),
      expect.stringContaining('REQ-E2EE-006 is retired; name REQ-E2EE-007 instead'),
    ]);
    // The same file with the real catalogue fails only on the first two.
    expect((thrown(() => loadWaivers(path, opts)) as WaiverError).problems).toHaveLength(2);
  });

  it.each([
    [
      'no owner',
      '  - { scenario: E2EE-REPLAY-001, reason: r, expires: "2027-01-01" }',
      "must have required property 'owner'",
    ],
    [
      'an empty reason',
      '  - { scenario: E2EE-REPLAY-001, reason: " ", owner: o, expires: "2027-01-01" }',
      '/waivers/0/reason',
    ],
    [
      'neither scenario nor requirement',
      '  - { reason: r, owner: o, expires: "2027-01-01" }',
      'must name a scenario or a requirement',
    ],
    [
      'a date that is not a date',
      '  - { scenario: E2EE-REPLAY-001, reason: r, owner: o, expires: "2027-02-30" }',
      '/waivers/0/expires',
    ],
    [
      'an unknown property',
      '  - { scenario: E2EE-REPLAY-001, reason: r, owner: o, expires: "2027-01-01", until: x }',
      'unknown property "until"',
    ],
    [
      'a bad profile',
      '  - { scenario: E2EE-REPLAY-001, profile: signal, reason: r, owner: o, expires: "2027-01-01" }',
      'must be one of',
    ],
  ])('refuses an entry with %s, naming the entry and its line', (_what, entry, message) => {
    const path = tempFile('w.yml', `${head}${entry}\n`);
    const e = thrown(() => loadWaivers(path, opts));
    expect(e.code).toBe('HRN_ERR_WAIVER_INVALID');
    expect(e.message).toContain(`${path}:3: waiver 1: `);
    expect(e.message).toContain(message);
  });

  it('refuses a file that is not YAML, has the wrong version, or cannot be read', () => {
    const bad = tempFile('w.yml', `${head}  - scenario: [unclosed\n`);
    expect(thrown(() => loadWaivers(bad, opts)).code).toBe('HRN_ERR_WAIVER_INVALID');
    const v2 = tempFile('w.yml', 'version: 2\nwaivers: []\n');
    expect(thrown(() => loadWaivers(v2, opts)).message).toContain('/version must be 1');
    const missing = thrown(() => loadWaivers(join(fixtures, 'missing.yml'), opts));
    expect(missing.code).toBe('HRN_ERR_WAIVER_INVALID');
    expect(missing.message).toContain('cannot be read');
  });
});

describe('applyWaivers', () => {
  const replay = (outcome: Outcome, codes: ViolationCode[], over: Partial<ScenarioResult> = {}) =>
    result('E2EE-REPLAY-001', ['REQ-E2EE-006', 'REQ-E2EE-007'], outcome, {
      findings: codes.map((c) => finding('REQ-E2EE-006', c)),
      ...over,
    });

  it('waives a failing run whose every finding is covered, and changes only the exit code', () => {
    const results = [
      replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED']),
      result('MSG-TEXT-001', ['REQ-MSG-001'], 'PASS'),
    ];
    const w = waiver({ scenario: 'E2EE-REPLAY-*', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] });
    expect(exitCode(results)).toBe(1);
    const out = applyWaivers(results, [w], { catalogue });
    expect(out.waived).toEqual([
      { run: 'E2EE-REPLAY-001 default signal-x3dh', outcome: 'FAIL', waivers: [1] },
    ]);
    expect(out.unwaived).toEqual([]);
    expect(out.waivers).toEqual([
      { waiver: w, status: 'applied', runs: ['E2EE-REPLAY-001 default signal-x3dh'] },
    ]);
    expect(exitCode(results, out)).toBe(0);
    // The result itself is untouched: the verdict is still FAIL.
    expect(results[0]?.outcome).toBe('FAIL');
  });

  it('does not waive a run with a finding the waiver does not list', () => {
    const results = [replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED', 'VIO_MSG_NOT_SHOWN'])];
    const out = applyWaivers(
      results,
      [waiver({ scenario: 'E2EE-REPLAY-001', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })],
      {
        catalogue,
      },
    );
    expect(out.waived).toEqual([]);
    expect(out.unwaived).toEqual([
      {
        run: 'E2EE-REPLAY-001 default signal-x3dh',
        outcome: 'FAIL',
        uncovered: [{ requirement: 'REQ-E2EE-006', code: 'VIO_MSG_NOT_SHOWN' }],
      },
    ]);
    expect(out.waivers[0]?.status).toBe('applied');
    expect(exitCode(results, out)).toBe(1);
  });

  it('a requirement waiver covers only findings on that requirement', () => {
    const results = [
      result('E2EE-REPLAY-001', ['REQ-E2EE-006', 'REQ-E2EE-007'], 'FAIL', {
        findings: [
          finding('REQ-E2EE-006', 'VIO_E2EE_REPLAY_ACCEPTED'),
          finding('REQ-E2EE-007', 'VIO_E2EE_REPLAY_ACCEPTED'),
        ],
      }),
    ];
    const one = applyWaivers(results, [waiver({ requirement: 'REQ-E2EE-006' })], { catalogue });
    expect(one.unwaived[0]?.uncovered).toEqual([
      { requirement: 'REQ-E2EE-007', code: 'VIO_E2EE_REPLAY_ACCEPTED' },
    ]);
    const both = applyWaivers(
      results,
      [waiver({ requirement: 'REQ-E2EE-006' }), waiver({ index: 2, requirement: 'REQ-E2EE-007' })],
      { catalogue },
    );
    expect(both.waived).toEqual([
      { run: 'E2EE-REPLAY-001 default signal-x3dh', outcome: 'FAIL', waivers: [1, 2] },
    ]);
  });

  it('a timeout fails every requirement of its scenario: only a waiver without codes covers it', () => {
    const results = [replay('TIMEOUT', [])];
    const coded = applyWaivers(
      results,
      [waiver({ scenario: 'E2EE-REPLAY-001', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })],
      {
        catalogue,
      },
    );
    expect(coded.waived).toEqual([]);
    expect(coded.waivers[0]?.status).toBe('not-covering');
    expect(exitCode(results, coded)).toBe(1);
    const plain = applyWaivers(results, [waiver({ scenario: 'E2EE-REPLAY-001' })], { catalogue });
    expect(plain.waived.map((w) => w.outcome)).toEqual(['TIMEOUT']);
    expect(exitCode(results, plain)).toBe(0);
  });

  it('variant and profile narrow a waiver', () => {
    const results = [
      replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED'], { variant: 'text' }),
      replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED'], { variant: 'text', profile: 'signal-pqxdh' }),
      replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED'], { variant: 'media' }),
    ];
    const out = applyWaivers(
      results,
      [waiver({ scenario: 'E2EE-REPLAY-001', variant: 'text', profile: 'signal-x3dh' })],
      {
        catalogue,
      },
    );
    expect(out.waived.map((w) => w.run)).toEqual(['E2EE-REPLAY-001 text signal-x3dh']);
    expect(out.unwaived.map((w) => w.run)).toEqual([
      'E2EE-REPLAY-001 text signal-pqxdh',
      'E2EE-REPLAY-001 media signal-x3dh',
    ]);
  });

  it('waives a NON_STRICT run (a SHOULD finding) for the report', () => {
    const results = [
      result('TYPING-SEND-002', ['REQ-TYPING-001', 'REQ-TYPING-002'], 'NON_STRICT', {
        variant: 'recording',
        level: 'SHOULD',
        findings: [finding('REQ-TYPING-001', 'VIO_TYPING_NOT_SENT', 'SHOULD')],
      }),
    ];
    const set = loadWaivers(join(fixtures, 'valid.yml'), opts);
    const out = applyWaivers(results, set, { catalogue, certify: true });
    expect(out.file).toEqual({ path: set.path, sha256: set.sha256 });
    expect(out.waived).toEqual([
      { run: 'TYPING-SEND-002 recording signal-x3dh', outcome: 'NON_STRICT', waivers: [1] },
    ]);
    expect(out.waivers.map((w) => w.status)).toEqual(['applied', 'unmatched']);
  });

  it('never waives an ERROR: the exit code stays 3', () => {
    const results = [replay('ERROR', [], { reason: 'HRN_ERR_DRIVER_TIMEOUT: POST /v1/send' })];
    const out = applyWaivers(results, [waiver({ scenario: 'E2EE-REPLAY-001' })], { catalogue });
    expect(out.waived).toEqual([]);
    expect(out.unwaived).toEqual([]);
    // An ERROR run did not really run: the waiver matched nothing.
    expect(out.waivers[0]?.status).toBe('unmatched');
    expect(exitCode(results, out)).toBe(3);
    expect(exitCode([...results, replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED'])], out)).toBe(3);
  });

  it('reports a waiver whose scenario ran and passed as stale', () => {
    const results = [replay('PASS', []), replay('PASS', [], { profile: 'signal-pqxdh' })];
    const out = applyWaivers(
      results,
      [waiver({ scenario: 'E2EE-REPLAY-001', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })],
      {
        catalogue,
      },
    );
    expect(out.waivers).toEqual([
      {
        waiver: expect.objectContaining({ index: 1 }),
        status: 'stale',
        runs: ['E2EE-REPLAY-001 default signal-x3dh', 'E2EE-REPLAY-001 default signal-pqxdh'],
      },
    ]);
    expect(waiverLines(out)[0]).toMatch(/^stale +waiver 1 \(E2EE-REPLAY-001\) at w\.yml:3 is stale/);
    expect(waiverMarkdown(out)).toContain('Stale waivers');
  });

  it('a requirement waiver is stale when its requirement passes though another fails', () => {
    const results = [
      result('E2EE-REPLAY-001', ['REQ-E2EE-006', 'REQ-E2EE-007'], 'FAIL', {
        findings: [finding('REQ-E2EE-007', 'VIO_E2EE_REPLAY_ACCEPTED')],
      }),
    ];
    const out = applyWaivers(results, [waiver({ requirement: 'REQ-E2EE-006' })], { catalogue });
    expect(out.waivers[0]?.status).toBe('stale');
    expect(out.unwaived).toHaveLength(1);
  });

  it('reports a waiver that matches nothing that ran: not selected, or not applicable', () => {
    const results = [
      result('MSG-TEXT-001', ['REQ-MSG-001'], 'PASS'),
      result('TYPING-SEND-002', ['REQ-TYPING-001'], 'NOT_APPLICABLE'),
    ];
    const out = applyWaivers(
      results,
      [waiver({ scenario: 'E2EE-*' }), waiver({ index: 2, scenario: 'TYPING-SEND-002' })],
      { catalogue },
    );
    expect(out.waivers.map((w) => [w.status, w.runs])).toEqual([
      ['unmatched', []],
      ['unmatched', []],
    ]);
  });

  describe('in a certification run', () => {
    const failing = [replay('FAIL', ['VIO_E2EE_REPLAY_ACCEPTED'])];

    it('refuses a waiver on MUST scenarios with a clear message; an ordinary run accepts it', () => {
      const set = loadWaivers(join(fixtures, 'on-a-must.yml'), opts);
      const e = thrown(() => applyWaivers(failing, set, { catalogue, certify: true }));
      expect(e.code).toBe('HRN_ERR_WAIVER_MUST');
      expect(e.message).toContain('a waiver cannot cover a MUST requirement in a certification run');
      expect(e.message).toContain('waiver 1 (E2EE-REPLAY-*) at');
      expect(e.message).toContain('covers MUST requirement(s) REQ-E2EE-006, REQ-E2EE-007');
      expect(applyWaivers(failing, set, { catalogue }).waived).toHaveLength(1);
    });

    it('refuses a waiver naming a MUST requirement, even when nothing ran', () => {
      const e = thrown(() =>
        applyWaivers([], [waiver({ requirement: 'REQ-E2EE-006' })], { catalogue, certify: true }),
      );
      expect(e.code).toBe('HRN_ERR_WAIVER_MUST');
    });

    it('refuses a waiver on a MUST scenario this run did not select', () => {
      const w = waiver({ scenario: 'E2EE-REPLAY-002' });
      expect(applyWaivers(failing, [w], { catalogue, certify: true }).waivers[0]?.status).toBe('unmatched');
      const scenarios = [{ id: 'E2EE-REPLAY-002', requirements: ['REQ-E2EE-006'] }];
      expect(thrown(() => applyWaivers(failing, [w], { catalogue, certify: true, scenarios })).code).toBe(
        'HRN_ERR_WAIVER_MUST',
      );
    });

    it('accepts a waiver that names only a SHOULD requirement of a MUST scenario', () => {
      const results = [
        result('KEYS-ROTATE-001', ['REQ-KEYS-003', 'REQ-KEYS-001'], 'NON_STRICT', {
          findings: [finding('REQ-KEYS-003', 'VIO_MSG_NOT_SHOWN', 'SHOULD')],
        }),
      ];
      const w = waiver({ scenario: 'KEYS-ROTATE-001', requirement: 'REQ-KEYS-003' });
      expect(applyWaivers(results, [w], { catalogue, certify: true }).waived).toHaveLength(1);
      expect(
        thrown(() =>
          applyWaivers(results, [waiver({ scenario: 'KEYS-ROTATE-001' })], { catalogue, certify: true }),
        ).code,
      ).toBe('HRN_ERR_WAIVER_MUST');
    });
  });
});

describe('exitCode', () => {
  const outcome = (runs: string[]): WaiverOutcome => ({
    waived: runs.map((run) => ({ run, outcome: 'FAIL', waivers: [1] })),
    unwaived: [],
    waivers: [],
  });
  const fail = result('A-B-001', ['REQ-MSG-001'], 'FAIL');

  it('is 0 when every failure is waived, 1 otherwise; NON_STRICT alone does not fail', () => {
    expect(exitCode([result('A-B-001', [], 'PASS'), result('A-B-002', [], 'NON_STRICT')])).toBe(0);
    expect(exitCode([fail])).toBe(1);
    expect(exitCode([fail], outcome(['A-B-001 default signal-x3dh']))).toBe(0);
    expect(exitCode([fail], outcome(['A-B-001 other signal-x3dh']))).toBe(1);
  });

  it('in a certification run follows the verdict, whatever the waivers', () => {
    expect(exitCode([fail], outcome(['A-B-001 default signal-x3dh']), { certified: false })).toBe(1);
    expect(exitCode([result('A-B-001', [], 'PASS')], undefined, { certified: true })).toBe(0);
    expect(exitCode([result('A-B-001', [], 'ERROR')], undefined, { certified: true })).toBe(3);
  });
});
