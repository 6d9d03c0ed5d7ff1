import { describe, expect, it } from 'vitest';
import { FAULTS } from '../../fixtures/candidates/reference/faults.ts';
import { loadCatalogue } from '../requirements/load.ts';
import { areaOf, variantsOf } from '../scenario/define.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { FaultRow, FaultVerdict } from './plan.ts';
import { catches, profileFor, summariseSelftest, tiersFor } from './plan.ts';

const scenarios = await loadScenarios();
const fault: FaultRow = {
  name: 'accept-replay',
  area: 'E2EE',
  requirements: ['REQ-E2EE-006'],
  codes: ['VIO_E2EE_REPLAY_ACCEPTED'],
};

describe('tiers', () => {
  it('puts each scenario in exactly one tier: requirement, then area, then the rest', () => {
    const t = tiersFor(fault, scenarios);
    expect(t.requirement.length + t.area.length + t.other.length).toBe(scenarios.length);
    expect(t.requirement.length).toBeGreaterThan(0);
    for (const s of t.requirement) expect(s.scenario.requirements).toContain('REQ-E2EE-006');
    for (const s of t.area) {
      expect(areaOf(s.scenario.id)).toBe('E2EE');
      expect(s.scenario.requirements).not.toContain('REQ-E2EE-006');
    }
    for (const s of t.other) expect(areaOf(s.scenario.id)).not.toBe('E2EE');
  });

  it('counts runs by variant', () => {
    const runs = scenarios.flatMap(({ scenario }) =>
      variantsOf(scenario).map(([variant]) => ({ id: scenario.id, variant })),
    );
    expect(runs.length).toBeGreaterThanOrEqual(200);
    expect(new Set(runs.map((r) => `${r.id} ${r.variant}`)).size).toBe(runs.length);
  });

  it('tries a fault under its own profile', () => {
    expect(profileFor({ ...fault, profiles: ['signal-x3dh'] })).toBe('signal-x3dh');
    expect(profileFor(fault)).toBe('signal-pqxdh');
  });
});

describe('catches', () => {
  it('needs a FAIL carrying one of the declared codes', () => {
    expect(catches(fault, { outcome: 'FAIL', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })).toBe(true);
    expect(catches(fault, { outcome: 'FAIL', codes: ['VIO_MSG_CONTENT_MISMATCH'] })).toBe(false);
    expect(catches(fault, { outcome: 'TIMEOUT', codes: [] })).toBe(false);
    expect(catches(fault, { outcome: 'ERROR', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })).toBe(false);
    expect(catches(fault, { outcome: 'NON_STRICT', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] })).toBe(false);
  });

  it('takes NON_STRICT with the code for a fault that breaks only SHOULD requirements', () => {
    expect(catches(fault, { outcome: 'NON_STRICT', codes: ['VIO_E2EE_REPLAY_ACCEPTED'] }, true)).toBe(true);
  });
});

describe('summariseSelftest', () => {
  const verdict = (name: string, caught: boolean, tier?: FaultVerdict['tier']): FaultVerdict => ({
    fault: name,
    area: 'E2EE',
    profile: 'signal-pqxdh',
    caught,
    ...(tier ? { tier } : {}),
    caughtBy: caught ? ['X-Y-001 default'] : [],
    errors: [],
    runs: 1,
    ms: 1,
  });
  const clean = { runs: 2, ok: true, problems: [], ms: 1 };

  it('passes only with a clean suite, every fault caught and no ERROR', () => {
    expect(summariseSelftest(clean, [verdict('a', true, 'requirement')], 5).ok).toBe(true);
    expect(
      summariseSelftest(clean, [verdict('a', true, 'requirement'), verdict('b', false)], 5),
    ).toMatchObject({
      ok: false,
      detectionRate: 0.5,
    });
    expect(summariseSelftest({ ...clean, ok: false }, [verdict('a', true, 'area')], 5).ok).toBe(false);
    expect(
      summariseSelftest(
        clean,
        [{ ...verdict('a', true, 'requirement'), errors: ['X-Y-001 default: boom'] }],
        5,
      ).ok,
    ).toBe(false);
  });

  it('names the faults caught only outside their area', () => {
    const r = summariseSelftest(clean, [verdict('a', true, 'other'), verdict('b', true, 'area')], 5);
    expect(r.caughtOutsideArea).toEqual(['a']);
  });
});

describe('the faults table against the catalogue', () => {
  const catalogue = loadCatalogue();
  it('has at least 40 faults, faults in every area, and a fault for every MUST of E2EE and MEDIA', () => {
    expect(FAULTS.length).toBeGreaterThanOrEqual(40);
    const areas = new Set(catalogue.requirements.map((r) => r.area));
    const faulted = new Set(FAULTS.map((f) => f.area as string));
    expect([...areas].filter((a) => !faulted.has(a))).toEqual([]);
    const targeted = new Set(FAULTS.flatMap((f) => f.requirements as readonly string[]));
    const untargeted = catalogue.requirements
      .filter((r) => !r.retired && r.level === 'MUST' && (r.area === 'E2EE' || r.area === 'MEDIA'))
      .map((r) => r.id as string)
      .filter((id) => !targeted.has(id));
    expect(untargeted).toEqual([]);
  });
});
