import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestResult } from 'allure-js-commons';
import type { Category, ExecutorInfo } from 'allure-js-commons/sdk';
import { parseEnvInfo } from 'allure-js-commons/sdk/reporter';
import { afterAll, describe, expect, it } from 'vitest';
import type { DriverEvent } from '../driver/contract.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import type { TranscriptEntry } from '../server/types.ts';
import type { AllureMeta, AllureRun } from './allure.ts';
import { categoriesOf, historyIdOf, writeAllureResults } from './allure.ts';

const catalogue = loadCatalogue();
const root = mkdtempSync(join(tmpdir(), 'allure-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const frame: TranscriptEntry = {
  kind: 'frame',
  seq: 7,
  direction: 'c2s',
  clock: 1_000,
  connection: 'w1',
  stanza: '<message id="m1"><enc type="msg">canary-in-the-clear</enc></message>',
  bytes: 60,
  violations: [],
};
const event = { seq: 1, at: 1_000, type: 'connection', state: 'connected' } as DriverEvent;

function result(id: string, outcome: Outcome, over: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id,
    variant: 'text',
    profile: 'signal-pqxdh',
    outcome,
    level: 'MUST',
    requirements: ['REQ-PRIV-001'],
    findings: [],
    steps: [],
    notes: [],
    durationMs: 40,
    evidence: { transcript: [frame], events: [event] },
    ...over,
  };
}

const failing = result('PRIV-CANARY-001', 'FAIL', {
  findings: [
    {
      level: 'MUST',
      code: 'VIO_PRIV_PLAINTEXT_LEAK',
      requirement: 'REQ-PRIV-001',
      step: 'the message reaches the server',
      message: 'the canary is visible in 1 transcript entry',
    },
  ],
  steps: [
    { label: 'the candidate sends a message', startedAt: 5_000, durationMs: 10, status: 'ok' },
    { label: 'the message reaches the server', startedAt: 5_010, durationMs: 20, status: 'ok' },
  ],
  notes: [{ label: 'canary', data: 'c4n4ry' }],
});

const results: ScenarioResult[] = [
  failing,
  result('PRIV-CANARY-002', 'PASS', { variant: 'image-caption' }),
  result('MSG-TEXT-001', 'TIMEOUT', {
    requirements: ['REQ-MSG-001'],
    reason: 'TIMEOUT: no message within 10000 ms',
  }),
  result('MSG-TEXT-002', 'ERROR', {
    requirements: ['REQ-MSG-001'],
    reason: 'HRN_ERR_INTERNAL: boom\n    at somewhere (file.ts:1:1)',
  }),
  result('TYPING-SEND-001', 'NOT_APPLICABLE', {
    level: 'SHOULD',
    requirements: ['REQ-TYPING-006'],
    reason: 'the manifest does not declare typing-send',
  }),
  result('KEYS-ROTATE-003', 'NON_STRICT', {
    level: 'SHOULD',
    requirements: ['REQ-KEYS-003'],
    findings: [
      {
        level: 'SHOULD',
        code: 'VIO_MSG_NOT_SHOWN',
        requirement: 'REQ-KEYS-003',
        step: '(setup)',
        message: 'late',
      },
    ],
  }),
];

const meta: AllureMeta = {
  harnessVersion: '9.9.9',
  contractVersion: '1.0',
  candidate: [{ name: 'reference', version: '0.1.0', profile: 'signal-pqxdh' }],
  seed: 's1',
  faults: ['plaintext-body'],
  node: 'v20',
  startedAt: '2030-01-01T00:00:00.000Z',
  partial: false,
};

const run: AllureRun = {
  results,
  summary: {
    profiles: ['signal-pqxdh'],
    certification: {
      certified: false,
      reasons: ['1 MUST requirement(s) failed: REQ-PRIV-001'],
      mustTotal: 10,
      mustPassed: 7,
    },
  },
  meta,
  catalogue,
};

function read(dir: string) {
  const resultsDir = join(dir, 'allure-results');
  const files = readdirSync(resultsDir);
  const tests = files
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as TestResult);
  const byName = (name: string) => {
    const t = tests.find((x) => x.name === name);
    if (!t) throw new Error(`no result named ${name}`);
    return t;
  };
  const labels = (t: TestResult, name: string) => t.labels.filter((l) => l.name === name).map((l) => l.value);
  return { resultsDir, files, tests, byName, labels };
}

describe('writeAllureResults', () => {
  const dir = join(root, 'run');
  const written = writeAllureResults(dir, run);
  const { resultsDir, files, tests, byName, labels } = read(dir);

  it('writes one result per scenario run with its status', () => {
    expect(written.results).toBe(results.length);
    expect(tests).toHaveLength(results.length);
    const status = Object.fromEntries(tests.map((t) => [t.name, t.status]));
    expect(status).toEqual({
      'PRIV-CANARY-001 text (signal-pqxdh)': 'failed',
      'PRIV-CANARY-002 image-caption (signal-pqxdh)': 'passed',
      'MSG-TEXT-001 text (signal-pqxdh)': 'failed',
      'MSG-TEXT-002 text (signal-pqxdh)': 'broken',
      'TYPING-SEND-001 text (signal-pqxdh)': 'skipped',
      'KEYS-ROTATE-003 text (signal-pqxdh)': 'passed',
    });
  });

  it('labels a run by area, topic, requirement, severity and profile', () => {
    const t = byName('PRIV-CANARY-001 text (signal-pqxdh)');
    expect(labels(t, 'epic')).toEqual(['PRIV']);
    expect(labels(t, 'feature')).toEqual(['PRIV-CANARY']);
    expect(labels(t, 'story')).toEqual(['REQ-PRIV-001']);
    expect(labels(t, 'severity')).toEqual(['critical']);
    expect(labels(t, 'tag')).toEqual(['signal-pqxdh']);
    expect(labels(t, 'parentSuite')).toEqual(['signal-pqxdh']);
    expect(labels(t, 'suite')).toEqual(['PRIV']);
    expect(labels(t, 'subSuite')).toEqual(['PRIV-CANARY-001']);
    expect(labels(byName('TYPING-SEND-001 text (signal-pqxdh)'), 'severity')).toEqual(['normal']);
    // NON_STRICT passes in Allure's terms, so it must say what it is.
    const soft = byName('KEYS-ROTATE-003 text (signal-pqxdh)');
    expect(labels(soft, 'tag')).toContain('NON_STRICT');
    expect(soft.statusDetails.message).toMatch(/^NON_STRICT: 1 SHOULD finding/);
  });

  it('puts every finding in the status message and the requirement text in the description', () => {
    const t = byName('PRIV-CANARY-001 text (signal-pqxdh)');
    expect(t.statusDetails.message).toContain(
      'VIO_PRIV_PLAINTEXT_LEAK REQ-PRIV-001 (MUST) at step "the message reaches the server": the canary is visible in 1 transcript entry',
    );
    const req = catalogue.byId('REQ-PRIV-001');
    expect(req).toBeDefined();
    expect(t.description).toContain(req?.title);
    expect(t.description).toContain(req?.quote);
    expect(t.description).toContain(req?.source.section);
    expect(t.descriptionHtml).toContain('<blockquote>');
    expect(byName('MSG-TEXT-002 text (signal-pqxdh)').statusDetails.trace).toContain('at somewhere');
  });

  it('keeps the steps, with each finding under the step that raised it', () => {
    const t = byName('PRIV-CANARY-001 text (signal-pqxdh)');
    expect(t.steps.map((s) => [s.name, s.status])).toEqual([
      ['the candidate sends a message', 'passed'],
      ['the message reaches the server', 'failed'],
    ]);
    expect(t.steps[1]?.steps[0]?.name).toContain('VIO_PRIV_PLAINTEXT_LEAK');
    expect(t.start).toBe(5_000);
    expect(t.stop).toBe(5_040);
    const soft = byName('KEYS-ROTATE-003 text (signal-pqxdh)');
    expect(soft.steps.map((s) => s.name)).toEqual(['checks']);
  });

  it('attaches the wire excerpt and the candidate events of runs that did not pass', () => {
    const t = byName('PRIV-CANARY-001 text (signal-pqxdh)');
    const wire = t.attachments.find((a) => a.name.startsWith('wire excerpt'));
    expect(wire?.type).toBe('text/plain');
    const text = readFileSync(join(resultsDir, wire?.source ?? ''), 'utf8');
    expect(JSON.parse(text.trim())).toEqual(frame);
    const events = t.attachments.find((a) => a.name === 'candidate events');
    expect(events?.type).toBe('application/json');
    expect(JSON.parse(readFileSync(join(resultsDir, events?.source ?? ''), 'utf8'))).toEqual([event]);
    expect(t.attachments.map((a) => a.name)).toContain('notes');
    expect(byName('PRIV-CANARY-002 image-caption (signal-pqxdh)').attachments).toEqual([]);
    for (const a of tests.flatMap((x) => x.attachments)) expect(files).toContain(a.source);
  });

  it('writes the verdict into environment.properties and executor.json', () => {
    const env = parseEnvInfo(readFileSync(join(resultsDir, 'environment.properties'), 'utf8'));
    expect(env).toMatchObject({
      VERDICT: 'NOT CERTIFIED (7/10 MUST requirements passed)',
      'MUST passed': '7/10',
      'Harness version': '9.9.9',
      'Driver contract version': '1.0',
      Candidate: 'reference 0.1.0 (signal-pqxdh)',
      Seed: 's1',
      Faults: 'plaintext-body',
      'Reason 1': '1 MUST requirement(s) failed: REQ-PRIV-001',
    });
    const executor = JSON.parse(readFileSync(join(resultsDir, 'executor.json'), 'utf8')) as ExecutorInfo;
    expect(executor.reportName).toBe('interop-cert: NOT CERTIFIED (7/10 MUST requirements passed)');
  });

  it('sorts failures into categories by code category, timeout and harness error', () => {
    const categories = JSON.parse(readFileSync(join(resultsDir, 'categories.json'), 'utf8')) as Category[];
    expect(categories).toEqual(JSON.parse(JSON.stringify(categoriesOf())));
    // Allure (Java) matches the whole message; (?s) is JavaScript's `s` flag.
    const first = (t: TestResult) =>
      categories.find(
        (c) =>
          (c.matchedStatuses ?? []).includes(t.status as never) &&
          (c.messageRegex === undefined ||
            new RegExp(`^(?:${String(c.messageRegex).replace('(?s)', '')})$`, 's').test(
              t.statusDetails.message ?? '',
            )),
      )?.name;
    expect(first(byName('PRIV-CANARY-001 text (signal-pqxdh)'))).toBe('MUST violations: behaviour');
    expect(byName('MSG-TEXT-001 text (signal-pqxdh)').statusDetails.message).toBe(
      'TIMEOUT: no message within 10000 ms',
    );
    expect(first(byName('MSG-TEXT-001 text (signal-pqxdh)'))).toBe('Timeouts');
    expect(first(byName('MSG-TEXT-002 text (signal-pqxdh)'))).toBe('Harness errors (ERROR)');
    expect(first(byName('KEYS-ROTATE-003 text (signal-pqxdh)'))).toBe('SHOULD findings (NON_STRICT)');
    expect(first(byName('PRIV-CANARY-002 image-caption (signal-pqxdh)'))).toBeUndefined();
  });

  it('keeps history ids across runs and replaces what an earlier run left', () => {
    const again = join(root, 'again');
    mkdirSync(join(again, 'allure-results'), { recursive: true });
    writeFileSync(join(again, 'allure-results', 'stale-result.json'), '{}');
    writeAllureResults(again, { ...run, meta: { ...meta, startedAt: '2030-02-02T00:00:00.000Z' } });
    const second = read(again);
    expect(second.files).not.toContain('stale-result.json');
    expect(second.tests.map((t) => t.historyId).sort()).toEqual(tests.map((t) => t.historyId).sort());
    expect(second.tests.map((t) => t.uuid).sort()).not.toEqual(tests.map((t) => t.uuid).sort());
    expect(historyIdOf(failing)).toBe(byName('PRIV-CANARY-001 text (signal-pqxdh)').historyId);
    expect(historyIdOf({ ...failing, profile: 'signal-x3dh' })).not.toBe(historyIdOf(failing));
  });

  it('writes the same files for the same run', () => {
    const twin = join(root, 'twin');
    writeAllureResults(twin, run);
    const a = read(dir).files.sort();
    expect(read(twin).files.sort()).toEqual(a);
    for (const f of a) {
      expect(readFileSync(join(twin, 'allure-results', f), 'utf8')).toBe(
        readFileSync(join(resultsDir, f), 'utf8'),
      );
    }
  });
});
