import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { globToRegExp } from './run.ts';

async function run(...args: string[]) {
  const out: string[] = [];
  const code = await main(['node', 'interop-cert', ...args], {
    out: (l) => out.push(l),
    err: (l) => out.push(l),
  });
  return { code, out: out.join('\n') };
}

describe('interop-cert run', () => {
  it('passes the reference candidate and exits 0', async () => {
    const r = await run('run', '--reference', '--profile', 'signal-x3dh', '--filter', 'MSG-TEXT-001');
    expect(r.out).toContain('PASS           MSG-TEXT-001 ascii (signal-x3dh)');
    expect(r.out).toMatch(/^3 PASS$/m);
    expect(r.code).toBe(0);
  });

  it('catches a switched-on fault with its code and exits 1', async () => {
    const r = await run(
      'run',
      '--reference',
      '--profile',
      'signal-x3dh',
      '--filter',
      'E2EE-REPLAY-*',
      '--fault',
      'accept-replay',
    );
    expect(r.out).toContain('VIO_E2EE_REPLAY_ACCEPTED');
    expect(r.code).toBe(1);
  });

  it('refuses usage errors with exit 2', async () => {
    expect((await run('run')).code).toBe(2);
    expect((await run('run', '--reference', '--candidate', 'http://127.0.0.1:1')).code).toBe(2);
    expect(
      (await run('run', '--reference', '--profile', 'signal-x3dh', '--fault', 'no-such-fault')).code,
    ).toBe(2);
    expect((await run('run', '--reference', '--filter', 'NOTHING-*')).code).toBe(2);
  });

  it('reports an unreachable candidate as a harness error, exit 3', async () => {
    expect((await run('run', '--candidate', 'http://127.0.0.1:9', '--filter', 'MSG-TEXT-001')).code).toBe(3);
  });
});

describe('globToRegExp', () => {
  it('matches ids by * and ?', () => {
    expect(globToRegExp('E2EE-*').test('E2EE-REPLAY-001')).toBe(true);
    expect(globToRegExp('MSG-TEXT-00?').test('MSG-TEXT-001')).toBe(true);
    expect(globToRegExp('MSG-TEXT-00?').test('MSG-TEXT-0010')).toBe(false);
    expect(globToRegExp('MSG.TEXT').test('MSGXTEXT')).toBe(false);
  });
});

describe('interop-cert run --out --certify', () => {
  it('writes the report files and refuses certification while MUST requirements are untested', async () => {
    const { mkdtempSync, readFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const r = await run(
      'run',
      '--reference',
      '--profile',
      'signal-x3dh',
      '--filter',
      'MSG-TEXT-001',
      '--out',
      dir,
      '--certify',
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('NOT CERTIFIED');
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.meta.partial).toBe(false);
    expect(summary.certification.certified).toBe(false);
    expect(existsSync(join(dir, 'compliance.md'))).toBe(true);
  });
});
