// results.jsonl: one line per scenario run (scenario x variant x profile), written as each run
// ends and read back by `interop-cert report` (and `merge`). A line is the run's result without
// its evidence; the evidence (transcript slice and candidate events, driver calls) lives in files
// under evidence/ that the line names.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../codes.ts';
import type { DriverEvent } from '../driver/contract.ts';
import type { DriverLogEntry } from '../driver/log.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { QUIET_OUTCOMES } from '../scenario/runner.ts';
import type { TranscriptEntry } from '../server/types.ts';
import type { GradedRun } from './summary.ts';
import { assertReport } from './validate.ts';

export const RESULTS_FILE = 'results.jsonl';

export type EvidenceMode = 'failures' | 'all';

/** A line of results.jsonl (schemas/report/result.schema.json). */
export interface ResultLine extends GradedRun {
  /** evidence/<ID>/<variant>.<profile>.wire.jsonl: transcript entries, then candidate events. */
  readonly evidencePath?: string;
  /** evidence/<ID>/<variant>.<profile>.driver.jsonl: the driver calls of the run. */
  readonly driverLogPath?: string;
  readonly clockOffsetMs?: number;
}

/** Whether a run's evidence is written: every run that did not pass, or all with `--evidence all`. */
export function keepsEvidence(outcome: Outcome, mode: EvidenceMode): boolean {
  return mode === 'all' || !QUIET_OUTCOMES.has(outcome);
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

function evidenceBase(r: Pick<GradedRun, 'id' | 'variant' | 'profile'>): string {
  return `evidence/${safe(r.id)}/${safe(r.variant)}.${r.profile}`;
}

export function evidencePath(r: Pick<GradedRun, 'id' | 'variant' | 'profile'>): string {
  return `${evidenceBase(r)}.wire.jsonl`;
}

export function driverLogPath(r: Pick<GradedRun, 'id' | 'variant' | 'profile'>): string {
  return `${evidenceBase(r)}.driver.jsonl`;
}

/** The line for a result; `paths` says which evidence files were written for it. */
export function toResultLine(
  r: ScenarioResult,
  paths: { evidence: boolean; driverLog: boolean; clockOffsetMs?: number },
): ResultLine {
  const { evidence: _evidence, ...graded } = r;
  return {
    ...graded,
    // Steps are live records while a scenario runs; the line keeps a copy.
    steps: r.steps.map((s) => ({ ...s })),
    ...(paths.evidence ? { evidencePath: evidencePath(r) } : {}),
    ...(paths.driverLog ? { driverLogPath: driverLogPath(r) } : {}),
    ...(paths.clockOffsetMs === undefined ? {} : { clockOffsetMs: Math.round(paths.clockOffsetMs) }),
  };
}

/** The text of a line, validated: a line that breaks the schema is never written. */
export function formatResultLine(line: ResultLine): string {
  // Through JSON first, so the check sees exactly what a reader will parse.
  const text = JSON.stringify(line);
  assertReport('result', JSON.parse(text), `the result line of ${line.id} ${line.variant} ${line.profile}`);
  return text;
}

/**
 * Reads DIR/results.jsonl back, each line validated. A last line without its newline is a write
 * that a killed run did not finish; it is left out, as the run's summary left it out.
 */
export function readResults(dir: string): ResultLine[] {
  const path = join(dir, RESULTS_FILE);
  if (!existsSync(path))
    throw new HarnessError('HRN_ERR_IO', `${path} does not exist: is ${dir} a run directory?`);
  const text = readFileSync(path, 'utf8');
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const out: ResultLine[] = [];
  complete.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_REPORT_INVALID',
        `${path} line ${i + 1} is not JSON: ${(e as Error).message}`,
      );
    }
    assertReport('result', value, `${path} line ${i + 1}`);
    out.push(value as ResultLine);
  });
  return out;
}

export interface RunEvidence {
  readonly transcript: readonly TranscriptEntry[];
  readonly events: readonly DriverEvent[];
}

/** The wire evidence of a line from its file; empty when the run kept none. */
export function readEvidence(dir: string, line: Pick<ResultLine, 'evidencePath'>): RunEvidence {
  const transcript: TranscriptEntry[] = [];
  const events: DriverEvent[] = [];
  if (!line.evidencePath) return { transcript, events };
  const path = join(dir, line.evidencePath);
  if (!existsSync(path)) return { transcript, events };
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    if (raw.trim() === '') continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry.kind === 'candidate-event') {
      const { kind: _kind, ...event } = entry;
      events.push(event as unknown as DriverEvent);
    } else transcript.push(entry as unknown as TranscriptEntry);
  }
  return { transcript, events };
}

/** The text of a run's wire evidence file: transcript entries, then the candidate's events. */
export function formatEvidence(evidence: RunEvidence): string {
  const lines = [
    ...evidence.transcript.map((e) => JSON.stringify(e)),
    ...evidence.events.map((e) => JSON.stringify({ kind: 'candidate-event', ...e })),
  ];
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export function formatDriverLog(entries: readonly DriverLogEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** A line with its evidence read back, for writers that want whole results (Allure). */
export function withEvidence(dir: string, line: ResultLine): ScenarioResult {
  return asResult(line, readEvidence(dir, line));
}

/** A results line back as the scenario result it was, with evidence already at hand. */
export function asResult(line: ResultLine, evidence: RunEvidence): ScenarioResult {
  const { evidencePath: _e, driverLogPath: _d, clockOffsetMs: _c, ...graded } = line;
  return { ...graded, evidence };
}
