// A scenario is data with metadata plus one `run` function (test262: each case is data; the
// runner contract is written down). Scenario files are plain modules that export the result
// of `defineScenario`, so lint, coverage and `list` read them without running anything.

import type { CryptoProfileId, Feature, RequirementId, RequirementLevel } from '../requirements/types.ts';
import type { ScenarioContext } from './context.ts';

export type ScenarioKind = 'conformance' | 'security' | 'robustness' | 'observation';

/** AREA-TOPIC-NNN, e.g. MSG-TEXT-001, E2EE-REPLAY-003. */
export const SCENARIO_ID = /^[A-Z][A-Z0-9]*-[A-Z][A-Z0-9]*-[0-9]{3}$/;

export interface ScenarioDefinition<V = undefined> {
  readonly id: string;
  readonly title: string;
  /** The requirements it checks; violations name one of them. */
  readonly requirements: readonly RequirementId[];
  /** The strictest level it asserts: MUST failures FAIL, SHOULD ones are NON_STRICT, MAY is recorded. */
  readonly level: RequirementLevel;
  readonly kind: ScenarioKind;
  /** Optional capabilities the candidate must declare; without them the scenario is NOT_APPLICABLE. */
  readonly features?: readonly Feature[];
  /** The crypto profiles it applies to (default: both). */
  readonly profiles?: readonly CryptoProfileId[];
  /** Named variants; the scenario runs once per variant and profile. */
  readonly variants?: Readonly<Record<string, V>>;
  readonly timeoutMs?: number;
  readonly tags?: readonly string[];
  run(ctx: ScenarioContext<V>): Promise<void>;
}

export type AnyScenario = ScenarioDefinition<unknown>;

export function defineScenario<V = undefined>(def: ScenarioDefinition<V>): ScenarioDefinition<V> {
  if (!SCENARIO_ID.test(def.id)) throw new Error(`scenario id ${def.id} is not AREA-TOPIC-NNN`);
  if (def.requirements.length === 0) throw new Error(`scenario ${def.id} names no requirement`);
  return Object.freeze(def);
}

/** The area is the id's first part: MSG-TEXT-001 -> MSG. */
export function areaOf(id: string): string {
  return id.slice(0, id.indexOf('-'));
}

export function variantsOf(def: AnyScenario): [string, unknown][] {
  return def.variants ? Object.entries(def.variants) : [['default', undefined]];
}
