import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../requirements/load.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { summarise } from './summary.ts';

const catalogue = loadCatalogue();
const musts = catalogue.requirements.filter((r) => r.level === 'MUST' && !r.retired);

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

const x3dhMusts = musts.filter((r) => r.profiles.includes('signal-x3dh')).map((r) => r.id);

describe('summarise', () => {
  it('certifies only when every MUST of the profile passed and nothing errored', () => {
    const all = summarise([result('ALL-PASS-001', x3dhMusts, 'PASS')], catalogue, ['signal-x3dh']);
    expect(all.certification).toMatchObject({ certified: true, mustPassed: x3dhMusts.length });
  });

  it('refuses certification for a MUST failure, an ERROR, or a requirement never tested', () => {
    const failing = result('A-B-001', [x3dhMusts[0] ?? ''], 'FAIL', {
      findings: [
        {
          level: 'MUST',
          code: 'VIO_MSG_NOT_SHOWN',
          requirement: x3dhMusts[0] as never,
          step: 's',
          message: 'm',
        },
      ],
    });
    const s1 = summarise([result('ALL-PASS-001', x3dhMusts.slice(1), 'PASS'), failing], catalogue, [
      'signal-x3dh',
    ]);
    expect(s1.certification.certified).toBe(false);
    expect(s1.requirements.find((r) => r.id === x3dhMusts[0])?.verdict).toBe('FAIL');
    const s2 = summarise(
      [result('ALL-PASS-001', x3dhMusts, 'PASS'), result('X-Y-001', [], 'ERROR')],
      catalogue,
      ['signal-x3dh'],
    );
    expect(s2.certification.certified).toBe(false);
    expect(s2.certification.reasons[0]).toContain('ERROR');
    const s3 = summarise([result('ALL-PASS-001', x3dhMusts.slice(1), 'PASS')], catalogue, ['signal-x3dh']);
    expect(s3.certification.certified).toBe(false);
    expect(s3.requirements.find((r) => r.id === x3dhMusts[0])?.verdict).toBe('NOT_TESTED');
  });

  it('never counts a skip as a pass', () => {
    const s = summarise(
      [
        result('ALL-PASS-001', x3dhMusts.slice(1), 'PASS'),
        result('SKIP-X-001', [x3dhMusts[0] ?? ''], 'NOT_APPLICABLE'),
      ],
      catalogue,
      ['signal-x3dh'],
    );
    expect(s.requirements.find((r) => r.id === x3dhMusts[0])?.verdict).toBe('NOT_APPLICABLE');
    expect(s.certification.certified).toBe(false);
  });

  it('a timeout fails the requirements of its scenario', () => {
    const s = summarise([result('T-O-001', [x3dhMusts[0] ?? ''], 'TIMEOUT')], catalogue, ['signal-x3dh']);
    expect(s.requirements.find((r) => r.id === x3dhMusts[0])?.verdict).toBe('FAIL');
  });
});

describe('the coverage matrix', () => {
  it('maps each requirement to the runs that ran it and their outcomes, never a skip', () => {
    const [a, b] = x3dhMusts;
    const s = summarise(
      [
        result('A-B-001', [a ?? ''], 'PASS'),
        result('A-B-002', [a ?? '', b ?? ''], 'FAIL', { variant: 'v2' }),
        result('A-B-003', [b ?? ''], 'NOT_APPLICABLE'),
      ],
      catalogue,
      ['signal-x3dh'],
    );
    expect(s.coverage[a ?? '']).toEqual({
      'A-B-001 default signal-x3dh': 'PASS',
      'A-B-002 v2 signal-x3dh': 'FAIL',
    });
    expect(s.coverage[b ?? '']).toEqual({ 'A-B-002 v2 signal-x3dh': 'FAIL' });
    expect(s.requirements.find((r) => r.id === b)?.scenarios).toContain('A-B-003 default signal-x3dh');
    expect(Object.keys(s.coverage)).toHaveLength(2);
  });
});
