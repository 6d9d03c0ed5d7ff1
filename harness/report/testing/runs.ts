// Scenario results for the report's tests: real requirement ids, transcript entries shaped as the
// server records them, steps on the wall clock with a known server clock offset.

import type { ViolationCode } from '../../codes.ts';
import { loadCatalogue } from '../../requirements/load.ts';
import type { CryptoProfileId, RequirementId } from '../../requirements/types.ts';
import type { Finding } from '../../scenario/context.ts';
import type { Outcome, ScenarioResult } from '../../scenario/runner.ts';
import type { FrameEntry, TranscriptEntry } from '../../server/types.ts';
import type { ReportInput } from '../input.ts';
import { reportInput } from '../input.ts';
import type { ResultLine, RunEvidence } from '../results.ts';
import { evidencePath, keepsEvidence, toResultLine } from '../results.ts';
import type { RunMeta } from '../run-meta.ts';
import type { Summary } from '../summary.ts';
import { summarise } from '../summary.ts';

export const catalogue = loadCatalogue();
export const T0 = 1_800_000_000_000;
/** Server clock minus wall clock in these runs. */
export const OFFSET = 5_000;

export function frame(
  seq: number,
  clock: number,
  stanza: string,
  over: Partial<FrameEntry> = {},
): FrameEntry {
  return {
    kind: 'frame',
    seq,
    clock,
    direction: 's2c',
    connection: 'w1',
    address: '1-10853634039893@interop',
    stanza,
    bytes: stanza.length,
    violations: [],
    ...over,
  };
}

export interface RunSpec {
  readonly id?: string;
  readonly variant?: string;
  readonly profile?: CryptoProfileId;
  readonly outcome: Outcome;
  readonly requirements?: readonly string[];
  readonly findings?: readonly (Partial<Finding> & { code: ViolationCode })[];
  readonly reason?: string;
  readonly transcript?: readonly TranscriptEntry[];
}

/** A result with two steps: `send` at T0..T0+100 and `check` at T0+200..T0+300 (wall clock). */
export function run(spec: RunSpec): ScenarioResult {
  const requirements = spec.requirements ?? ['REQ-E2EE-007'];
  return {
    id: spec.id ?? 'E2EE-REPLAY-001',
    variant: spec.variant ?? 'default',
    profile: spec.profile ?? 'signal-x3dh',
    outcome: spec.outcome,
    level: 'MUST',
    requirements,
    findings: (spec.findings ?? []).map((f) => ({
      level: 'MUST',
      requirement: requirements[0] as RequirementId,
      step: 'check',
      message: `${f.code} happened`,
      ...f,
    })),
    steps: [
      { label: 'send', startedAt: T0, durationMs: 100, status: 'ok' },
      {
        label: 'check',
        startedAt: T0 + 200,
        durationMs: 100,
        status: spec.findings?.length ? 'failed' : 'ok',
      },
    ],
    notes: [],
    durationMs: 300,
    ...(spec.reason ? { reason: spec.reason } : {}),
    evidence: { transcript: spec.transcript ?? [], events: [] },
  };
}

export const META: RunMeta = {
  harnessVersion: '0.1.0',
  contractVersion: '1.0',
  candidate: [{ name: 'Kim Chat', version: '2.4.1', profile: 'signal-x3dh' }],
  target: 'reference',
  seed: 'test-seed',
  certify: true,
  evidence: 'failures',
  node: 'v20.19.0',
  startedAt: '2026-11-25T10:00:00.000Z',
  finishedAt: '2026-11-25T10:05:00.000Z',
  partial: false,
};

/** The input the derived writers get for these results, evidence in memory. */
export function inputOf(
  results: readonly ScenarioResult[],
  over: { meta?: Partial<RunMeta>; dir?: string; summary?: Summary } = {},
): ReportInput {
  const cache = new Map<string, RunEvidence>();
  const lines: ResultLine[] = results.map((r) => {
    const keep = keepsEvidence(r.outcome, 'failures') && r.evidence.transcript.length > 0;
    if (keep) cache.set(evidencePath(r), r.evidence);
    return toResultLine(r, { evidence: keep, driverLog: false, clockOffsetMs: OFFSET });
  });
  return reportInput(
    {
      dir: over.dir ?? '/nonexistent',
      meta: { ...META, ...over.meta },
      results: lines,
      summary: over.summary ?? summarise(lines, catalogue, ['signal-x3dh']),
      catalogue,
    },
    cache,
  );
}
