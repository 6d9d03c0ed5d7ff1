import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { signRun } from '../report/sign.ts';
import { loadSigningKey } from '../report/signing-key.ts';
import type { ExitCode } from './main.ts';
import { registerVerify } from './verify.ts';

/** The verify command alone on a fresh program, with main.ts's mapping of errors to exit codes. */
async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  let code: ExitCode = 0;
  const program = new Command('interop-cert')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerVerify(program, io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(['node', 'interop-cert', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else if (e instanceof HarnessError) {
      io.err(e.message);
      code = e.code === 'HRN_ERR_USAGE' ? 2 : 3;
    } else throw e;
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const root = mkdtempSync(join(tmpdir(), 'verify-'));
const home = join(root, 'home');
let serial = 0;

function signedRun(): string {
  const dir = join(root, `run-${++serial}`);
  mkdirSync(join(dir, 'evidence', 'MSG-TEXT-001'), { recursive: true });
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({
      meta: { harnessVersion: '0.1.0', contractVersion: '1.0', seed: '1' },
      counts: { PASS: 1 },
      certification: { certified: true, reasons: [], mustTotal: 1, mustPassed: 1 },
    }),
  );
  writeFileSync(
    join(dir, 'results.jsonl'),
    `${JSON.stringify({ id: 'MSG-TEXT-001', variant: 'default', profile: 'signal-x3dh', outcome: 'PASS' })}\n`,
  );
  writeFileSync(join(dir, 'evidence', 'MSG-TEXT-001', 'wire.jsonl'), '{}\n');
  signRun(dir, { env: { INTEROP_CERT_HOME: home } });
  return dir;
}

describe('interop-cert verify', () => {
  it('prints VERIFIED with the key id and verdict, and warns that an unpinned key proves no origin', async () => {
    const dir = signedRun();
    const keyId = loadSigningKey({ env: { INTEROP_CERT_HOME: home } }).keyId;
    const r = await run('verify', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`VERIFIED ${dir}`);
    expect(r.out).toContain(`key ${keyId}`);
    expect(r.out).toContain('run result PASSED (certified), 3 files');
    expect(r.out).toContain('key not pinned');
  });

  it('pins the key by --public-key or --key-id', async () => {
    const dir = signedRun();
    const key = loadSigningKey({ env: { INTEROP_CERT_HOME: home } });
    const pub = join(root, 'pub.pem');
    writeFileSync(pub, key.publicKeyPem);
    const byFile = await run('verify', dir, '--public-key', pub);
    expect(byFile.code).toBe(0);
    expect(byFile.out).toContain(`key ${key.keyId} (pinned)`);
    expect(byFile.out).not.toContain('not pinned');
    expect((await run('verify', dir, '--key-id', `sha256:${key.keyId}`)).code).toBe(0);
    const other = await run('verify', dir, '--key-id', 'ef'.repeat(32));
    expect(other.code).toBe(1);
    expect(other.out).toContain(`wrong key: signed by ${key.keyId}, expected ${'ef'.repeat(32)}`);
  });

  it('prints NOT VERIFIED and names each changed, missing and added file, exit 1', async () => {
    const dir = signedRun();
    writeFileSync(
      join(dir, 'results.jsonl'),
      readFileSync(join(dir, 'results.jsonl'), 'utf8').replace('PASS', 'FAIL'),
    );
    rmSync(join(dir, 'evidence', 'MSG-TEXT-001', 'wire.jsonl'));
    writeFileSync(join(dir, 'notes.txt'), 'later');
    const r = await run('verify', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`NOT VERIFIED ${dir}`);
    expect(r.out).toMatch(/changed results\.jsonl: expected sha256 [0-9a-f]{64}, actual [0-9a-f]{64}/);
    expect(r.out).toContain('missing evidence/MSG-TEXT-001/wire.jsonl');
    expect(r.out).toContain('added notes.txt');
    expect(r.out).toContain('3 problems');
  });

  it('prints one JSON document with --json', async () => {
    const dir = signedRun();
    writeFileSync(join(dir, 'summary.json'), '{}');
    const r = await run('verify', '--json', dir);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { ok: boolean; problems: { kind: string; file?: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.problems).toEqual([expect.objectContaining({ kind: 'changed', file: 'summary.json' })]);
    const good = JSON.parse((await run('verify', '--json', signedRun())).out) as {
      ok: boolean;
      result: string;
    };
    expect(good).toMatchObject({ ok: true, result: 'PASSED' });
  });

  it('exits 3 when there is nothing to verify', async () => {
    const unsigned = join(root, 'unsigned');
    mkdirSync(unsigned, { recursive: true });
    const r = await run('verify', unsigned);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/HRN_ERR_IO: .* has no signature\.json/);
    expect((await run('verify', join(root, 'nowhere'))).code).toBe(3);
  });

  it('exits 2 on usage errors', async () => {
    const dir = signedRun();
    expect((await run('verify')).code).toBe(2);
    expect((await run('verify', dir, '--public-key', join(root, 'missing.pem'))).code).toBe(2);
    expect((await run('verify', dir, '--key-id', 'abc')).code).toBe(2);
    writeFileSync(join(root, 'junk.pem'), 'junk');
    const junk = await run('verify', dir, '--public-key', join(root, 'junk.pem'));
    expect(junk.code).toBe(2);
    expect(junk.err).toContain('HRN_ERR_USAGE');
  });
});

process.on('exit', () => rmSync(root, { recursive: true, force: true }));
