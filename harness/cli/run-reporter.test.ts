import { describe, expect, it } from 'vitest';
import type { TestCase, TestModule, TestSuite } from 'vitest/node';
import type { PlannedRun, RunRecord } from './run-context.ts';
import { RunReporter } from './run-reporter.ts';

const planned = (variant: string): PlannedRun => ({
  id: 'MSG-TEXT-001',
  variant,
  profile: 'signal-x3dh',
  level: 'MUST',
  requirements: ['REQ-MSG-001'],
});

/** The parts of vitest's reported tasks the reporter reads. */
function test(
  id: string,
  meta: object,
  state: 'passed' | 'failed' | 'skipped',
  opts: { mode?: 'run' | 'skip'; error?: string } = {},
): TestCase {
  return {
    id,
    options: { mode: opts.mode ?? 'run' },
    meta: () => meta,
    result: () => ({ state, errors: opts.error ? [{ message: opts.error }] : [] }),
  } as unknown as TestCase;
}

function listen() {
  const got = { records: [] as RunRecord[], totals: [] as number[], errors: [] as string[] };
  const reporter = new RunReporter({
    planned: (n) => got.totals.push(n),
    record: (r) => got.records.push(r),
    harnessError: (m) => got.errors.push(m),
  });
  return { got, reporter };
}

describe('RunReporter', () => {
  it('counts the runs that will run, and passes each record on once', () => {
    const { got, reporter } = listen();
    const record = { result: { ...planned('ascii'), outcome: 'PASS' } } as unknown as RunRecord;
    const tests = [
      test('a', { interopPlanned: planned('ascii'), interopRecord: record }, 'passed'),
      test('b', { interopPlanned: planned('long') }, 'skipped', { mode: 'skip' }),
    ];
    reporter.onTestModuleCollected({ children: { allTests: () => tests.values() } } as unknown as TestModule);
    reporter.onTestCaseResult(tests[0] as TestCase);
    reporter.onTestCaseResult(tests[0] as TestCase);
    // Filtered out by tags: nothing to report.
    reporter.onTestCaseResult(tests[1] as TestCase);
    expect(got.totals).toEqual([1]);
    expect(got.records).toEqual([record]);
  });

  it('turns a test that failed without a record into an ERROR of its run, coded', () => {
    const { got, reporter } = listen();
    reporter.onTestCaseResult(
      test('a', { interopPlanned: planned('ascii') }, 'failed', { error: 'Test timed out in 25000ms.' }),
    );
    reporter.onTestCaseResult(
      test('b', { interopPlanned: planned('long') }, 'failed', {
        error: 'HRN_ERR_DRIVER_TIMEOUT: POST /v1/send\nat ...',
      }),
    );
    expect(got.records.map((r) => [r.result.variant, r.result.outcome, r.result.reason])).toEqual([
      ['ascii', 'ERROR', 'HRN_ERR_INTERNAL: Test timed out in 25000ms.'],
      ['long', 'ERROR', 'HRN_ERR_DRIVER_TIMEOUT: POST /v1/send'],
    ]);
  });

  it('gives every run of a suite whose beforeAll failed an ERROR with that reason', () => {
    const { got, reporter } = listen();
    const tests = [
      test('a', { interopPlanned: planned('ascii') }, 'skipped'),
      test('b', { interopPlanned: planned('long') }, 'skipped', { mode: 'skip' }),
    ];
    reporter.onTestSuiteResult({
      errors: () => [{ message: 'HRN_ERR_DRIVER_UNREACHABLE: GET /v1/manifest: refused' }],
      children: { allTests: () => tests.values() },
    } as unknown as TestSuite);
    expect(got.records.map((r) => [r.result.variant, r.result.outcome, r.result.reason])).toEqual([
      ['ascii', 'ERROR', 'HRN_ERR_DRIVER_UNREACHABLE: GET /v1/manifest: refused'],
    ]);
  });

  it('reports load failures and unhandled errors as harness errors', () => {
    const { got, reporter } = listen();
    reporter.onTestRunEnd(
      [{ errors: () => [{ message: 'SyntaxError: bad scenario' }] } as unknown as TestModule],
      [{ message: 'boom' } as never],
      'failed',
    );
    expect(got.errors).toEqual(['HRN_ERR_INTERNAL: SyntaxError: bad scenario', 'HRN_ERR_INTERNAL: boom']);
  });
});
