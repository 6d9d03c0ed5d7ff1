import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { readResults } from '../report/results.ts';
import { reportProblems } from '../report/validate.ts';
import { checkTags } from './run.ts';

const BIN = fileURLToPath(new URL('../../bin/interop-cert.js', import.meta.url));
const SLOW = 180_000;

/** This process's environment without the variables of the vitest running these tests; not a terminal. */
function childEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  return { ...env, CI: 'true' };
}

/**
 * The command as a user runs it, in its own process: `run` starts vitest, which must not nest
 * inside the vitest running these tests.
 */
function cli(
  args: readonly string[],
  opts: { signalWhen?: (stdout: string) => boolean } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!signalled && opts.signalWhen?.(out)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `run-${name}-`));
const keysOf = (dir: string) => readResults(dir).map((r) => `${r.id} ${r.variant} ${r.profile} ${r.outcome}`);

describe('interop-cert run', { timeout: SLOW }, () => {
  it('passes the reference candidate, exits 0 and writes every report file, each valid', async () => {
    const dir = tmp('pass');
    const r = await cli([
      'run',
      '--reference',
      '--profile',
      'signal-x3dh',
      '--filter',
      'MSG-TEXT-001',
      '--out',
      dir,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('PASS           MSG-TEXT-001 ascii (signal-x3dh)');
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(reportProblems('result', JSON.parse(l))).toEqual([]);
    expect(r.out).toMatch(new RegExp(`^${lines.length} PASS$`, 'm'));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(reportProblems('summary', summary)).toEqual([]);
    expect(summary.meta).toMatchObject({ partial: false, target: 'reference', filter: 'MSG-TEXT-001' });
    expect(summary.meta.candidate[0].manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(summary.coverage['REQ-MSG-001'] ?? {})).toHaveLength(lines.length);
    const junit = new XMLParser({ ignoreAttributes: false }).parse(
      readFileSync(join(dir, 'junit.xml'), 'utf8'),
    );
    expect(junit.testsuites['@_tests']).toBe(String(lines.length));
    expect(existsSync(join(dir, 'sarif.json'))).toBe(true);
    // Passing runs keep no evidence by default.
    expect(existsSync(join(dir, 'evidence'))).toBe(false);
  });

  it('catches a switched-on fault: exit 1, its requirement first in compliance.md, evidence and driver log', async () => {
    const dir = tmp('fault');
    const r = await cli([
      'run',
      '--reference',
      '--profile',
      'signal-x3dh',
      '--filter',
      'E2EE-REPLAY-001',
      '--fault',
      'accept-replay',
      '--out',
      dir,
      '--certify',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('VIO_E2EE_REPLAY_ACCEPTED');
    expect(r.out).toContain('NOT CERTIFIED');
    const md = readFileSync(join(dir, 'compliance.md'), 'utf8');
    expect(md.indexOf('**Verdict: NOT CERTIFIED**')).toBeLessThan(md.indexOf('## Failed MUST requirements'));
    expect(md).toMatch(/## Failed MUST requirements \(\d+\)\n\n### REQ-E2EE-00[67]:/);
    expect(md).toContain('fault-fired');
    const failing = readResults(dir).filter((x) => x.outcome === 'FAIL');
    expect(failing.length).toBeGreaterThan(0);
    for (const f of failing) {
      expect(existsSync(join(dir, f.evidencePath ?? 'missing'))).toBe(true);
      const calls = readFileSync(join(dir, f.driverLogPath ?? 'missing'), 'utf8')
        .trim()
        .split('\n');
      expect(calls.map((c) => JSON.parse(c).endpoint)).toContain('events');
    }
    const sarif = JSON.parse(readFileSync(join(dir, 'sarif.json'), 'utf8'));
    expect(sarif.runs[0].results[0].ruleId).toMatch(/^REQ-E2EE-00[67]$/);
  });

  it('a waiver file turns known failures into exit 0 without touching the verdict; refused in certification', async () => {
    const dir = tmp('waived');
    const waivers = join(dir, 'waivers.yml');
    writeFileSync(
      waivers,
      'version: 1\nwaivers:\n' +
        '  - { scenario: E2EE-REPLAY-001, codes: [VIO_E2EE_REPLAY_ACCEPTED], reason: fix in 2.5, owner: kim, expires: "2099-01-01" }\n',
    );
    const args = [
      'run',
      '--reference',
      '--profile',
      'signal-x3dh',
      '--filter',
      'E2EE-REPLAY-001',
      '--fault',
      'accept-replay',
    ];
    const out = join(dir, 'run');
    const r = await cli([...args, '--waivers', waivers, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^waiver applied/m);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.counts.FAIL).toBeGreaterThan(0);
    expect(summary.waivers.waived.length).toBe(summary.counts.FAIL);
    expect(readFileSync(join(out, 'compliance.md'), 'utf8')).toContain('## Waivers');
    const certify = await cli([...args, '--waivers', waivers, '--certify']);
    expect(certify.code).toBe(2);
    expect(certify.err).toContain('HRN_ERR_WAIVER_MUST');
    expect(certify.out).toBe('');
  });

  it('selects by tags through vitest, and two shards together are the whole run', async () => {
    const base = ['run', '--reference', '--filter', 'MSG-TEXT-00?', '--tags', 'signal-x3dh'];
    const [whole, one, two] = [tmp('whole'), tmp('s1'), tmp('s2')];
    const results = await Promise.all([
      cli([...base, '--out', whole]),
      cli([...base, '--shard', '1/2', '--out', one]),
      cli([...base, '--shard', '2/2', '--out', two]),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const all = keysOf(whole);
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((k) => k.includes(' signal-x3dh '))).toBe(true);
    const a = keysOf(one);
    const b = keysOf(two);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((k) => b.includes(k))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([...all].sort());
    const meta = JSON.parse(readFileSync(join(one, 'summary.json'), 'utf8')).meta;
    expect(meta).toMatchObject({ shard: { index: 1, count: 2 }, tags: 'signal-x3dh' });
  });

  it('Ctrl-C leaves a valid partial report that says so', async () => {
    const dir = tmp('sigint');
    const r = await cli(
      ['run', '--reference', '--profile', 'signal-x3dh', '--filter', 'MSG-*', '--out', dir],
      {
        signalWhen: (out) => out.split('\n').filter((l) => l.startsWith('PASS')).length >= 2,
      },
    );
    expect(r.code).toBe(130);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(reportProblems('summary', summary)).toEqual([]);
    expect(summary.meta).toMatchObject({ partial: true, interrupted: true });
    expect(summary.meta.finishedAt).toBeUndefined();
    const lines = readResults(dir);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(summary.counts.PASS).toBe(lines.filter((l) => l.outcome === 'PASS').length);
    expect(readFileSync(join(dir, 'compliance.md'), 'utf8')).toContain(
      'PARTIAL RUN: the run was interrupted',
    );
  });

  it('refuses usage errors with exit 2 before running anything', async () => {
    const usage = [
      ['run'],
      ['run', '--reference', '--candidate', 'http://127.0.0.1:1'],
      ['run', '--reference', '--profile', 'signal-x3dh', '--fault', 'no-such-fault'],
      ['run', '--reference', '--filter', 'NOTHING-*'],
      ['run', '--reference', '--shard', '3/2'],
      ['run', '--reference', '--tags', 'no-such-tag'],
    ];
    const codes = await Promise.all(usage.map(async (args) => (await cli(args)).code));
    expect(codes).toEqual(usage.map(() => 2));
  });

  it('reports an unreachable candidate as a harness error, exit 3', async () => {
    const r = await cli(['run', '--candidate', 'http://127.0.0.1:9', '--filter', 'MSG-TEXT-001']);
    expect(r.code).toBe(3);
    expect(r.err).toContain('HRN_ERR_DRIVER_UNREACHABLE');
  });
});

describe('checkTags', () => {
  it('accepts the entry tags in expressions and refuses others', () => {
    expect(() => checkTags('e2ee and must')).not.toThrow();
    expect(() => checkTags('(msg || rcpt) && !signal-x3dh')).not.toThrow();
    expect(() => checkTags('signal-*')).not.toThrow();
    expect(() => checkTags('e2e')).toThrow(/no tag "e2e"/);
    expect(() => checkTags('  ')).toThrow(/needs an expression/);
  });
});
