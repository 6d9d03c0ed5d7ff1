// `interop-cert verify DIR`: checks a run directory against its signature.json and names every
// file that changed, went missing or appeared. Exit 0 verified, 1 not verified, 2 usage,
// 3 nothing to verify (no directory, no signature.json). A key pinned with --public-key or
// --key-id proves who signed; without one the check proves only that nothing changed since
// signing (docs/SIGNING.md).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HarnessError } from '../codes.ts';
import type { TestResult, VerifyOptions, VerifyProblem, VerifyResult } from '../report/sign.ts';
import { verifyRun } from '../report/sign.ts';
import { normaliseKeyId } from '../report/signing-key.ts';
import type { ExitCode, Io } from './main.ts';

interface VerifyFlags {
  readonly publicKey?: string;
  readonly keyId?: string;
  readonly json?: boolean;
}

function options(flags: VerifyFlags): VerifyOptions {
  let publicKey: string | undefined;
  if (flags.publicKey !== undefined) {
    try {
      publicKey = readFileSync(flags.publicKey, 'utf8');
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `cannot read --public-key ${flags.publicKey}: ${(e as Error).message}`,
      );
    }
  }
  if (flags.keyId !== undefined && !/^[0-9a-f]{64}$/.test(normaliseKeyId(flags.keyId))) {
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `--key-id ${flags.keyId} is not a hex SHA-256 key id (64 hex digits)`,
    );
  }
  return {
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(flags.keyId !== undefined ? { keyId: flags.keyId } : {}),
  };
}

export function describeProblem(p: VerifyProblem): string {
  switch (p.kind) {
    case 'malformed':
      return `malformed: ${p.message}`;
    case 'signature-invalid':
      return `signature invalid: ${p.message}`;
    case 'key-mismatch':
      return `wrong key: signed by ${p.actual}, expected ${p.expected}`;
    case 'changed':
      return `changed ${p.file}: expected sha256 ${p.expected}, actual ${p.actual}`;
    case 'missing':
      return `missing ${p.file}: expected sha256 ${p.expected}`;
    case 'added':
      return `added ${p.file}: sha256 ${p.actual}, not covered by the signature`;
    case 'unsupported':
      return `not a regular file ${p.file}: symlinks and special files cannot be verified`;
  }
}

// The signature vouches for the report, whatever its verdict: say which verdict it vouches for.
const MEANING: Readonly<Record<TestResult, string>> = {
  PASSED: 'certified',
  WARNED: 'certified, with SHOULD findings',
  FAILED: 'not certified',
};

function printText(io: Io, r: VerifyResult): void {
  if (r.ok) {
    io.out(`VERIFIED ${r.dir}`);
    io.out(`  key ${r.keyId}${r.pinned ? ' (pinned)' : ''}`);
    io.out(
      `  run result ${r.result} (${r.result ? MEANING[r.result] : ''}), ${r.statement?.subject.length ?? 0} files`,
    );
    if (!r.pinned) {
      io.out(
        '  key not pinned: this proves the files are unchanged since signing, not who signed them; pass --public-key or --key-id',
      );
    }
    return;
  }
  io.out(`NOT VERIFIED ${r.dir}`);
  if (r.keyId) io.out(`  key ${r.keyId}${r.pinned ? ' (pinned)' : ''}`);
  for (const p of r.problems) io.out(`  ${describeProblem(p)}`);
  io.out(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
}

export function registerVerify(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('verify')
    .description("check a run's signature.json and name every file that changed, went missing or was added")
    .argument('<dir>', 'a run directory (run --out DIR)')
    .option('--public-key <path>', 'PEM public key the run must be signed with (proves who signed)')
    .option('--key-id <id>', 'key id (hex SHA-256) the run must be signed with')
    .option('--json', 'print one JSON document for machines')
    .action((dir: string, flags: VerifyFlags) => {
      const r = verifyRun(dir, options(flags));
      if (flags.json) io.out(JSON.stringify(r, null, 2));
      else printText(io, r);
      setExit(r.ok ? 0 : 1);
    });
}
