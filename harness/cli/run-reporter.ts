// The vitest reporter of `interop-cert run`, in the main process: it takes each scenario run
// from its test's meta as vitest reports it, and tells the run what happened. A test that ended
// without a record (its environment could not be opened, vitest's own timeout fired) becomes an
// ERROR result for its planned run: never blamed on the candidate, never silently dropped.

import type { SerializedError } from 'vitest';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';
import type { PlannedRun, RunRecord } from './run-context.ts';

export interface RunListener {
  /** How many scenario runs will run (after the id filter, the shard and the tag filter). */
  planned(total: number): void;
  record(record: RunRecord): void;
  /** A harness problem outside any one scenario run: a file that failed to load, an unhandled error. */
  harnessError(message: string): void;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function errorText(errors: readonly SerializedError[] | undefined): string {
  const e = errors?.[0];
  if (!e) return 'HRN_ERR_INTERNAL: the test ended without a result';
  const message = e.message ?? String(e);
  return /^HRN_ERR_[A-Z_]+/.test(message) ? message : `HRN_ERR_INTERNAL: ${message}`;
}

/** An ERROR result standing in for a planned run that produced none. */
export function errorRecord(planned: PlannedRun, reason: string): RunRecord {
  return {
    result: {
      ...planned,
      outcome: 'ERROR',
      findings: [],
      steps: [],
      notes: [],
      durationMs: 0,
      reason,
      evidence: { transcript: [], events: [] },
    },
    driverLog: [],
    clockOffsetMs: 0,
  };
}

export class RunReporter implements Reporter {
  readonly #listener: RunListener;
  readonly #seen = new Set<string>();

  constructor(listener: RunListener) {
    this.#listener = listener;
  }

  onTestModuleCollected(module: TestModule): void {
    let total = 0;
    for (const test of module.children.allTests()) if (test.options.mode === 'run') total += 1;
    this.#listener.planned(total);
  }

  onTestCaseResult(test: TestCase): void {
    if (this.#seen.has(test.id)) return;
    const meta = test.meta();
    const result = test.result();
    if (meta.interopRecord) {
      this.#seen.add(test.id);
      this.#listener.record(meta.interopRecord);
    } else if (result.state === 'failed' && meta.interopPlanned) {
      this.#seen.add(test.id);
      this.#listener.record(errorRecord(meta.interopPlanned, firstLine(errorText(result.errors))));
    }
  }

  /** A failed beforeAll (the candidate unreachable, its environment refused) leaves its tests unrun. */
  onTestSuiteResult(suite: TestSuite): void {
    const errors = suite.errors();
    if (errors.length === 0) return;
    const reason = firstLine(errorText(errors));
    for (const test of suite.children.allTests()) {
      const planned = test.meta().interopPlanned;
      if (this.#seen.has(test.id) || test.options.mode !== 'run' || !planned) continue;
      this.#seen.add(test.id);
      this.#listener.record(errorRecord(planned, reason));
    }
  }

  onTestRunEnd(
    modules: readonly TestModule[],
    unhandledErrors: readonly SerializedError[],
    _reason: 'passed' | 'failed' | 'interrupted',
  ): void {
    for (const m of modules) {
      for (const e of m.errors()) this.#listener.harnessError(errorText([e]));
    }
    for (const e of unhandledErrors) this.#listener.harnessError(errorText([e]));
  }
}
