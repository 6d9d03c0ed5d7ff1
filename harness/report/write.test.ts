import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import type { Manifest } from '../driver/contract.ts';
import { readResults } from './results.ts';
import { manifestSha256 } from './run-meta.ts';
import { summarise } from './summary.ts';
import { catalogue, frame, META, run } from './testing/runs.ts';
import { reportProblems } from './validate.ts';
import { DERIVED_WRITERS, RunWriter, readSummaryFile, rebuildReport, writeRun } from './write.ts';

const manifest: Manifest = {
  name: 'Kim Chat',
  version: '2.4.1',
  contractVersion: '1.0',
  cryptoProfile: 'signal-x3dh',
  features: ['send-media'],
};
const { candidate: _c, partial: _p, finishedAt: _f, ...base } = META;
const fail = run({
  outcome: 'FAIL',
  findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED' }],
  transcript: [frame(1, 10, '<message id="a"/>')],
});
const pass = run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] });
const driverLog = [
  {
    seq: 1,
    endpoint: 'send',
    method: 'POST',
    path: '/v1/send',
    attempt: 1,
    startedAt: 1,
    durationMs: 2,
    status: 200,
  },
] as const;

const tmp = () => mkdtempSync(join(tmpdir(), 'write-'));
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');
const summaryOf = (dir: string) => JSON.parse(read(dir, 'summary.json'));

function writer(dir: string) {
  return new RunWriter(dir, { meta: { ...base, candidate: [] }, catalogue, profiles: ['signal-x3dh'] });
}

describe('RunWriter', () => {
  it('clears what an earlier run left and starts with an empty, partial report', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'evidence', 'OLD-RUN-001'), { recursive: true });
    writeFileSync(join(dir, 'evidence', 'OLD-RUN-001', 'x.wire.jsonl'), 'old');
    writeFileSync(join(dir, 'results.jsonl'), 'old\n');
    writeFileSync(join(dir, 'notes.txt'), 'the user’s own file');
    writer(dir).start();
    expect(read(dir, 'results.jsonl')).toBe('');
    expect(existsSync(join(dir, 'evidence'))).toBe(false);
    expect(read(dir, 'notes.txt')).toBe('the user’s own file');
    expect(summaryOf(dir).meta).toMatchObject({ partial: true, candidate: [] });
    for (const w of DERIVED_WRITERS.filter((x) => x.live))
      for (const o of w.outputs) expect(existsSync(join(dir, o))).toBe(true);
  });

  it('records each run as it ends: a line, its evidence and driver calls, and a current partial summary', () => {
    const dir = tmp();
    const w = writer(dir);
    w.start();
    w.add({ result: pass, manifest, driverLog: [...driverLog], clockOffsetMs: 3 });
    w.add({ result: fail, manifest, driverLog: [...driverLog], clockOffsetMs: 3 });
    const lines = readResults(dir);
    expect(lines.map((l) => l.outcome)).toEqual(['PASS', 'FAIL']);
    // A passing run keeps no evidence by default; a failing one keeps both files.
    expect(lines[0]).not.toHaveProperty('evidencePath');
    expect(read(dir, lines[1]?.evidencePath ?? '')).toBe(`${JSON.stringify(fail.evidence.transcript[0])}\n`);
    expect(JSON.parse(read(dir, lines[1]?.driverLogPath ?? ''))).toEqual(driverLog[0]);
    const s = summaryOf(dir);
    expect(reportProblems('summary', s)).toEqual([]);
    expect(s.meta.partial).toBe(true);
    expect(s.counts).toMatchObject({ PASS: 1, FAIL: 1 });
    expect(s.meta.candidate).toEqual([
      {
        name: 'Kim Chat',
        version: '2.4.1',
        profile: 'signal-x3dh',
        manifest,
        manifestSha256: manifestSha256(manifest),
      },
    ]);
    expect(read(dir, 'compliance.md')).toContain('PARTIAL RUN');
  });

  it('finishes with the final verdict, or marks an interrupted run', async () => {
    const dir = tmp();
    const w = writer(dir);
    w.start();
    w.add({ result: pass });
    w.interrupt();
    expect(summaryOf(dir).meta).toMatchObject({ partial: true, interrupted: true });
    expect(read(dir, 'compliance.md')).toContain('PARTIAL RUN: the run was interrupted');
    const summary = await w.finish();
    expect(summary.counts.PASS).toBe(1);
    const meta = summaryOf(dir).meta;
    expect(meta.partial).toBe(false);
    expect(meta).not.toHaveProperty('interrupted');
    expect(Date.parse(meta.finishedAt)).not.toBeNaN();
    expect(read(dir, 'compliance.md')).not.toContain('PARTIAL');
  });
});

describe('rebuildReport', () => {
  it('makes every derived file again from results.jsonl and the meta, byte for byte', async () => {
    const dir = tmp();
    const w = writer(dir);
    w.start();
    w.add({ result: pass, manifest });
    w.add({ result: fail, manifest, clockOffsetMs: 0 });
    await w.finish();
    // Files only: allure-results/ is a folder (its own test rebuilds it byte for byte).
    const outputs = ['summary.json', ...DERIVED_WRITERS.flatMap((x) => x.outputs)].filter((f) =>
      statSync(join(dir, f), { throwIfNoEntry: false })?.isFile(),
    );
    expect(outputs).toEqual(expect.arrayContaining(['summary.json', 'compliance.md', 'signature.json']));
    const before = Object.fromEntries(outputs.map((f) => [f, read(dir, f)]));
    for (const f of outputs) writeFileSync(join(dir, f), 'damaged');
    // Only the meta of summary.json is read back; the rest is rebuilt.
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({ meta: JSON.parse(before['summary.json'] ?? '').meta }),
    );
    const { summary } = await rebuildReport(dir, { catalogue });
    expect(summary.counts).toMatchObject({ PASS: 1, FAIL: 1 });
    for (const f of outputs) expect(read(dir, f), f).toBe(before[f]);
  });

  it('keeps the waiver outcome the run recorded: it needed the waiver file', async () => {
    const dir = tmp();
    const w = writer(dir);
    w.start();
    w.add({ result: fail });
    const waivers = {
      file: { path: 'w.yml', sha256: 'a'.repeat(64) },
      waived: [{ run: 'E2EE-REPLAY-001 default signal-x3dh', outcome: 'FAIL' as const, waivers: [1] }],
      unwaived: [],
      waivers: [],
    };
    await w.finish({ waivers });
    expect(summaryOf(dir).waivers).toEqual(waivers);
    writeFileSync(join(dir, 'compliance.md'), '');
    const rebuilt = await rebuildReport(dir, { catalogue });
    expect(rebuilt.waivers).toEqual(waivers);
    expect(summaryOf(dir).waivers).toEqual(waivers);
    expect(read(dir, 'compliance.md')).toContain('1 failing run(s) waived');
  });

  it('refuses a summary whose meta is not a run meta, and a directory without results', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ meta: { seed: 1 } }));
    await expect(rebuildReport(dir, { catalogue })).rejects.toThrow(/HRN_ERR_REPORT_INVALID/);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ meta: META }));
    await expect(rebuildReport(dir, { catalogue })).rejects.toThrow(/results.jsonl does not exist/);
    expect(readSummaryFile(dir).meta).toEqual(META);
  });
});

describe('writeRun', () => {
  it('writes a whole run at once, and refuses a summary that breaks its schema', () => {
    const dir = tmp();
    const summary = summarise([pass, fail], catalogue, ['signal-x3dh']);
    writeRun(dir, { results: [pass, fail], summary, meta: META, catalogue });
    expect(readResults(dir)).toHaveLength(2);
    expect(readdirSync(join(dir, 'evidence', 'E2EE-REPLAY-001'))).toEqual(['default.signal-x3dh.wire.jsonl']);
    expect(summaryOf(dir).meta).toEqual(META);
    let thrown: unknown;
    try {
      writeRun(tmp(), { results: [], summary, meta: { ...META, seed: 7 as never }, catalogue });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(HarnessError);
    expect((thrown as HarnessError).message).toContain('/meta/seed must be string');
  });
});
