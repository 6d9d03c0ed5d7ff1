import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import {
  formatEvidence,
  formatResultLine,
  keepsEvidence,
  readEvidence,
  readResults,
  toResultLine,
  withEvidence,
} from './results.ts';
import { frame, run } from './testing/runs.ts';

const failing = run({
  outcome: 'FAIL',
  findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED' }],
  transcript: [frame(1, 10, '<message id="a"/>')],
});

function thrown(f: () => unknown): HarnessError {
  try {
    f();
  } catch (e) {
    if (e instanceof HarnessError) return e;
    throw e;
  }
  throw new Error('expected a HarnessError');
}

describe('result lines', () => {
  it('keep evidence for every run that did not pass, or for all runs', () => {
    expect(
      ['PASS', 'INFORMATIONAL', 'NOT_APPLICABLE'].map((o) => keepsEvidence(o as never, 'failures')),
    ).toEqual([false, false, false]);
    expect(
      ['FAIL', 'TIMEOUT', 'ERROR', 'NON_STRICT'].every((o) => keepsEvidence(o as never, 'failures')),
    ).toBe(true);
    expect(keepsEvidence('PASS', 'all')).toBe(true);
  });

  it('carry the result without its evidence, and the paths of the evidence files', () => {
    const line = toResultLine(failing, { evidence: true, driverLog: true, clockOffsetMs: 12.4 });
    expect(line).not.toHaveProperty('evidence');
    expect(line).toMatchObject({
      evidencePath: 'evidence/E2EE-REPLAY-001/default.signal-x3dh.wire.jsonl',
      driverLogPath: 'evidence/E2EE-REPLAY-001/default.signal-x3dh.driver.jsonl',
      clockOffsetMs: 12,
    });
    expect(JSON.parse(formatResultLine(line))).toEqual(line);
  });

  it('are refused when they break the schema, naming the run and the problem', () => {
    const bad = toResultLine(run({ outcome: 'FAIL', findings: [{ code: 'NOT_A_CODE' as never }] }), {
      evidence: false,
      driverLog: false,
    });
    const e = thrown(() => formatResultLine(bad));
    expect(e.code).toBe('HRN_ERR_REPORT_INVALID');
    expect(e.message).toContain('E2EE-REPLAY-001 default signal-x3dh');
    expect(e.message).toContain('/findings/0/code');
    const unknownKey = { ...toResultLine(failing, { evidence: false, driverLog: false }), extra: 1 };
    expect(thrown(() => formatResultLine(unknownKey)).message).toContain('additional properties');
  });
});

describe('readResults', () => {
  it('reads the lines back, leaving out a last line a killed run did not finish', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const line = formatResultLine(toResultLine(failing, { evidence: false, driverLog: false }));
    writeFileSync(join(dir, 'results.jsonl'), `${line}\n${line}\n`);
    appendFileSync(join(dir, 'results.jsonl'), line.slice(0, 40));
    expect(readResults(dir)).toHaveLength(2);
  });

  it('refuses a line that is not JSON or breaks the schema, and a directory without results', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    writeFileSync(join(dir, 'results.jsonl'), '{"id": "X"}\n');
    expect(thrown(() => readResults(dir)).message).toMatch(/line 1 breaks result.schema.json/);
    writeFileSync(join(dir, 'results.jsonl'), 'nope\n');
    expect(thrown(() => readResults(dir)).message).toContain('line 1 is not JSON');
    expect(thrown(() => readResults(join(dir, 'missing'))).code).toBe('HRN_ERR_IO');
  });

  it('reads the evidence a line names back into the result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const events = [{ seq: 1, at: 5, type: 'connection', state: 'connected' } as const];
    const line = toResultLine(failing, { evidence: true, driverLog: false });
    mkdirSync(join(dir, 'evidence', 'E2EE-REPLAY-001'), { recursive: true });
    writeFileSync(join(dir, line.evidencePath ?? ''), formatEvidence({ ...failing.evidence, events }));
    expect(readEvidence(dir, line)).toEqual({ transcript: failing.evidence.transcript, events });
    expect(withEvidence(dir, line)).toEqual({ ...failing, evidence: { ...failing.evidence, events } });
    expect(readEvidence(dir, {})).toEqual({ transcript: [], events: [] });
  });
});
