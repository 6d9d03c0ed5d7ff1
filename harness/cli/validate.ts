// `interop-cert validate FILE|DIR...`: checks captured stanzas (one stanza per file) against
// the codec and the stanza schemas, the same pipeline the server runs on every frame.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { HarnessError } from '../codes.ts';
import { checkFrame } from '../schema/check.ts';
import type { Direction } from '../schema/kinds.ts';
import type { StanzaViolation } from '../schema/validate.ts';
import type { ExitCode, Io } from './main.ts';

export interface FileVerdict {
  readonly file: string;
  readonly valid: boolean;
  readonly kind: string | null;
  readonly direction: Direction | null;
  readonly violations: readonly StanzaViolation[];
}

/** Files named on the command line; a directory stands for every .xml file below it. */
export function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new HarnessError('HRN_ERR_USAGE', `cannot read ${p}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const entries = readdirSync(p, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.xml'))
        .sort();
      out.push(...entries.map((f) => join(p, f)));
    } else {
      out.push(p);
    }
  }
  return out;
}

export function validateFile(file: string, direction?: Direction): FileVerdict {
  const result = checkFrame(readFileSync(file), direction ? { direction } : {});
  return {
    file,
    valid: result.violations.length === 0,
    kind: result.kind ?? null,
    direction: result.direction ?? null,
    violations: result.violations,
  };
}

export function registerValidate(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('validate')
    .description('validate stanza files (one stanza per file; directories are searched for *.xml)')
    .argument('<paths...>', 'stanza files or directories')
    .option('--json', 'print one JSON document for machines')
    .addOption(
      new Option(
        '--direction <dir>',
        'the direction the stanzas travelled (default: read off each stanza)',
      ).choices(['c2s', 's2c']),
    )
    .action((paths: string[], opts: { json?: boolean; direction?: Direction }) => {
      const files = expandPaths(paths);
      if (files.length === 0) throw new HarnessError('HRN_ERR_USAGE', 'no .xml files found');
      const verdicts = files.map((f) => validateFile(f, opts.direction));
      const invalid = verdicts.filter((v) => !v.valid).length;
      if (opts.json) {
        io.out(JSON.stringify({ files: verdicts, valid: verdicts.length - invalid, invalid }, null, 2));
      } else {
        for (const v of verdicts) {
          const what = v.kind ? ` (${v.kind}, ${v.direction})` : '';
          io.out(`${v.valid ? 'VALID  ' : 'INVALID'} ${v.file}${what}`);
          for (const x of v.violations) io.out(`  ${x.code} ${x.pointer} ${x.message}`.trimEnd());
        }
        io.out(`${verdicts.length - invalid} valid, ${invalid} invalid`);
      }
      setExit(invalid > 0 ? 1 : 0);
    });
}
