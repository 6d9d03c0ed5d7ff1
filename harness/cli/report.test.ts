import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarise } from '../report/summary.ts';
import { catalogue, frame, META, run } from '../report/testing/runs.ts';
import { writeRun } from '../report/write.ts';
import { main } from './main.ts';

async function cli(...args: string[]) {
  const out: string[] = [];
  const code = await main(['node', 'interop-cert', ...args], {
    out: (l) => out.push(l),
    err: (l) => out.push(l),
  });
  return { code, out: out.join('\n') };
}

function runDir(results: Parameters<typeof writeRun>[1]['results'], meta = META): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  writeRun(dir, { results, summary: summarise(results, catalogue, ['signal-x3dh']), meta, catalogue });
  return dir;
}

const fail = run({
  outcome: 'FAIL',
  findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED' }],
  transcript: [frame(1, 10, '<message id="a"/>')],
});

describe('interop-cert report DIR', () => {
  it('rebuilds the derived files from results.jsonl and exits as the run would', async () => {
    const dir = runDir([fail]);
    const before = readFileSync(join(dir, 'compliance.md'), 'utf8');
    for (const f of ['compliance.md', 'junit.xml', 'sarif.json']) writeFileSync(join(dir, f), '');
    const r = await cli('report', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('1 scenario runs: 1 FAIL');
    expect(r.out).toContain('NOT CERTIFIED');
    expect(readFileSync(join(dir, 'compliance.md'), 'utf8')).toBe(before);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<failure');
    expect(JSON.parse(readFileSync(join(dir, 'sarif.json'), 'utf8')).version).toBe('2.1.0');
  });

  it('exits 3 for a run with harness errors and 0 for a passing run', async () => {
    const error = run({ outcome: 'ERROR', reason: 'HRN_ERR_DRIVER_TIMEOUT: x' });
    expect((await cli('report', runDir([error]))).code).toBe(3);
    const pass = run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] });
    expect((await cli('report', runDir([pass], { ...META, certify: false }))).code).toBe(0);
  });

  it('refuses a directory that is not a run with a usage error', async () => {
    const r = await cli('report', mkdtempSync(join(tmpdir(), 'report-empty-')));
    expect(r.code).toBe(2);
    expect(r.out).toContain('summary.json');
  });
});
