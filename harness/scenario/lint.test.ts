import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../requirements/load.ts';
import type { AnyScenario } from './define.ts';
import { defineScenario } from './define.ts';
import { lintScenarios } from './lint.ts';

const catalogue = loadCatalogue();
const optional = catalogue.requirements.find((r) => r.feature && !r.retired);
const mandatory = catalogue.requirements.find((r) => r.level === 'MUST' && !r.feature && !r.retired);

function scenario(over: Partial<AnyScenario> = {}): AnyScenario {
  return {
    id: 'MSG-TEXT-001',
    title: 't',
    requirements: [mandatory?.id ?? 'REQ-MSG-001'],
    level: 'MUST',
    kind: 'conformance',
    run: async () => {},
    ...over,
  } as AnyScenario;
}

describe('lintScenarios', () => {
  it('accepts a well-formed scenario in its folder and counts its coverage', () => {
    const r = lintScenarios(
      [{ file: 'msg/text/MSG-TEXT-001.hello.scenario.ts', scenario: scenario() }],
      catalogue,
    );
    expect(r.problems).toEqual([]);
    expect(r.coverage.get(mandatory?.id ?? '')).toEqual(['MSG-TEXT-001']);
    expect(r.uncovered.length).toBe(r.mustTotal - 1);
  });

  it('finds duplicate ids, misplaced files, unknown requirements and features', () => {
    const r = lintScenarios(
      [
        { file: 'msg/text/MSG-TEXT-001.a.scenario.ts', scenario: scenario() },
        { file: 'msg/text/MSG-TEXT-001.b.scenario.ts', scenario: scenario() },
        { file: 'e2ee/replay/MSG-TEXT-002.c.scenario.ts', scenario: scenario({ id: 'MSG-TEXT-002' }) },
        {
          file: 'msg/text/MSG-TEXT-003.d.scenario.ts',
          scenario: scenario({ id: 'MSG-TEXT-003', requirements: ['REQ-MSG-999'] }),
        },
        {
          file: 'msg/text/MSG-TEXT-004.e.scenario.ts',
          scenario: scenario({ id: 'MSG-TEXT-004', features: ['teleport' as never] }),
        },
      ],
      catalogue,
    );
    expect(r.problems.some((p) => p.includes('id also used by'))).toBe(true);
    expect(r.problems.some((p) => p.includes('must live in suites/msg/text/'))).toBe(true);
    expect(r.problems.some((p) => p.includes('unknown requirement REQ-MSG-999'))).toBe(true);
    expect(r.problems.some((p) => p.includes('unknown feature teleport'))).toBe(true);
  });

  it('refuses a feature-gated scenario that checks a mandatory requirement (a skip would hide it)', () => {
    expect(optional).toBeDefined();
    const gated = scenario({
      features: [optional?.feature ?? 'send-media'],
      requirements: [mandatory?.id ?? 'REQ-MSG-001'],
    });
    const r = lintScenarios([{ file: 'msg/text/MSG-TEXT-001.x.scenario.ts', scenario: gated }], catalogue);
    expect(r.problems.some((p) => p.includes('a skip would hide them'))).toBe(true);
    const fine = scenario({
      features: [optional?.feature ?? 'send-media'],
      requirements: [optional?.id ?? 'REQ-MSG-001'],
    });
    expect(
      lintScenarios([{ file: 'msg/text/MSG-TEXT-001.x.scenario.ts', scenario: fine }], catalogue).problems,
    ).toEqual([]);
  });

  it('defineScenario refuses a malformed id or no requirement', () => {
    expect(() => defineScenario({ ...scenario(), id: 'msg-1' })).toThrow(/AREA-TOPIC-NNN/);
    expect(() => defineScenario({ ...scenario(), requirements: [] })).toThrow(/no requirement/);
  });
});
