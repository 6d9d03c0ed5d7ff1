// Runs one scenario x variant against a prepared environment and grades it (DESIGN.md
// outcomes). A harness or driver failure is ERROR, never the candidate's FAIL; a wait that runs
// out is TIMEOUT; only findings of the checkers make FAIL or NON_STRICT.

import { HarnessError } from '../codes.ts';
import type { DriverEvent } from '../driver/contract.ts';
import { WaitTimeout } from '../peers/events.ts';
import type { Peer } from '../peers/peer.ts';
import type { RequirementLevel } from '../requirements/types.ts';
import type { TranscriptEntry } from '../server/types.ts';
import type { ContextState, Finding, PeerRequest, ScenarioContext, StepRecord } from './context.ts';
import { StopScenario } from './context.ts';
import type { AnyScenario } from './define.ts';
import type { ScenarioEnvironment } from './environment.ts';

export type Outcome =
  | 'PASS'
  | 'FAIL'
  | 'NON_STRICT'
  | 'INFORMATIONAL'
  | 'NOT_APPLICABLE'
  | 'TIMEOUT'
  | 'ERROR';

/** Outcomes that are no failure, error or finding: what a clean run gives and a report keeps quiet. */
export const QUIET_OUTCOMES: ReadonlySet<Outcome> = new Set(['PASS', 'INFORMATIONAL', 'NOT_APPLICABLE']);

export interface ScenarioResult {
  readonly id: string;
  readonly variant: string;
  readonly profile: string;
  readonly outcome: Outcome;
  readonly level: RequirementLevel;
  readonly requirements: readonly string[];
  readonly findings: readonly Finding[];
  readonly steps: readonly StepRecord[];
  readonly notes: readonly { label: string; data: unknown }[];
  readonly durationMs: number;
  /** Why the scenario ended early: a timeout, a harness error, a missing feature. */
  readonly reason?: string;
  readonly evidence: {
    readonly transcript: readonly TranscriptEntry[];
    readonly events: readonly DriverEvent[];
  };
}

const DEFAULT_TIMEOUT_MS = 20_000;
const FENCE_TIMEOUT_MS = 10_000;

export function grade(level: RequirementLevel, findings: readonly Finding[]): Outcome {
  if (findings.some((f) => f.level === 'MUST')) return 'FAIL';
  if (findings.some((f) => f.level === 'SHOULD')) return 'NON_STRICT';
  return level === 'MAY' ? 'INFORMATIONAL' : 'PASS';
}

export async function runScenario(
  def: AnyScenario,
  variantName: string,
  variant: unknown,
  env: ScenarioEnvironment,
): Promise<ScenarioResult> {
  const started = Date.now();
  const state: ContextState = { findings: [], steps: [], notes: [] };
  const seq = env.server.transcript.seq;
  const eventCursor = env.candidate.events.cursor;
  const base = {
    id: def.id,
    variant: variantName,
    profile: env.profile,
    level: def.level,
    requirements: def.requirements,
  };
  const finish = (outcome: Outcome, reason?: string): ScenarioResult => ({
    ...base,
    outcome,
    findings: state.findings,
    steps: state.steps,
    notes: state.notes,
    durationMs: Date.now() - started,
    ...(reason === undefined ? {} : { reason }),
    evidence: {
      transcript: env.server.transcript.slice(seq),
      events: env.candidate.events.all().slice(eventCursor),
    },
  });

  const missing = (def.features ?? []).filter((f) => !env.candidate.manifest.features.includes(f));
  if (missing.length > 0)
    return finish('NOT_APPLICABLE', `the manifest does not declare ${missing.join(', ')}`);
  if (def.profiles && !def.profiles.includes(env.profile)) {
    return finish('NOT_APPLICABLE', `only for ${def.profiles.join(', ')}`);
  }

  const peers: Peer[] = [];
  const ctx = makeContext(def, variantName, variant, env, state, peers);
  const timeoutMs = def.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      def.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeout(`end of ${def.id}`, timeoutMs)), timeoutMs);
      }),
    ]);
  } catch (e) {
    if (e instanceof StopScenario) return finish(grade(def.level, state.findings), e.message);
    if (e instanceof WaitTimeout || (e instanceof Error && e.message.startsWith('TIMEOUT'))) {
      // A MUST already broken decides it; otherwise the silence is the finding.
      const outcome = state.findings.some((f) => f.level === 'MUST') ? 'FAIL' : 'TIMEOUT';
      return finish(outcome, e.message);
    }
    const message =
      e instanceof HarnessError ? e.message : `HRN_ERR_INTERNAL: ${(e as Error)?.stack ?? String(e)}`;
    return finish('ERROR', message);
  } finally {
    clearTimeout(timer);
    for (const p of peers) p.close();
  }
  const peerErrors = peers.flatMap((p) => p.errors);
  if (peerErrors.length > 0)
    // Stryker disable next-line OptionalChaining: the length check guarantees a first error.
    return finish('ERROR', `HRN_ERR_INTERNAL: peer failed: ${peerErrors[0]?.message}`);
  return finish(grade(def.level, state.findings));
}

function makeContext(
  def: AnyScenario,
  variantName: string,
  variant: unknown,
  env: ScenarioEnvironment,
  state: ContextState,
  peers: Peer[],
): ScenarioContext<unknown> {
  let current = '(setup)';
  let depth = 0;
  const record =
    (level: RequirementLevel) => (ok: boolean, code: Finding['code'], message: string, req?: string) => {
      if (!ok) {
        const requirement = (req ?? def.requirements[0]) as Finding['requirement'];
        state.findings.push({ level, code, requirement, step: current, message });
      }
      return ok;
    };
  const must = record('MUST');
  const ctx: ScenarioContext<unknown> = {
    id: def.id,
    variant,
    variantName,
    profile: env.profile,
    peerProfile: env.peerProfile,
    server: env.server,
    candidate: env.candidate,
    async peer(request: PeerRequest = {}) {
      const p = await env.newPeer(request);
      peers.push(p);
      return p;
    },
    async step(label, fn) {
      const rec: StepRecord = { label, startedAt: Date.now(), durationMs: 0, status: 'ok' };
      state.steps.push(rec);
      const outer = current;
      depth += 1;
      current = label;
      const before = state.findings.length;
      try {
        const value = await fn();
        if (state.findings.length > before) rec.status = 'failed';
        return value;
      } catch (e) {
        rec.status = 'error';
        rec.error = (e as Error).message;
        throw e;
      } finally {
        rec.durationMs = Date.now() - rec.startedAt;
        depth -= 1;
        // A check between steps judges what the last step did: the report names that step.
        current = depth === 0 ? `after: ${label}` : outer;
      }
    },
    must,
    should: record('SHOULD'),
    demand(ok, code, message, requirement) {
      if (!must(ok, code, message, requirement)) throw new StopScenario(`stopped: ${message}`);
    },
    note(label, data) {
      state.notes.push({ label, data });
    },
    async fence(peer) {
      const since = env.candidate.events.cursor;
      const sent = await peer.send(env.candidate.jid, { type: 'text', text: `fence ${Date.now()}` });
      // Stryker disable next-line ObjectLiteral: equivalent, the fence id is fresh (no earlier event matches) and FENCE_TIMEOUT_MS is the wait's default.
      await env.candidate.events.waitFor('message-received', (e) => e.id === sent.id, {
        since,
        timeoutMs: FENCE_TIMEOUT_MS,
      });
    },
  };
  return ctx;
}
