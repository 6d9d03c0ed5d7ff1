// The interop-cert command. Each subcommand lives in its own module; this file wires them to
// commander and owns the exit-code contract (docs/CLI.md): 0 pass, 1 candidate failures,
// 2 usage error, 3 harness error.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { HarnessError } from '../codes.ts';
import { registerCandidate } from './candidate.ts';
import { registerList } from './list.ts';
import { registerMedia } from './media.ts';
import { registerMerge } from './merge.ts';
import { registerReplay } from './replay.ts';
import { registerReport } from './report.ts';
import { registerRun } from './run.ts';
import { registerServe } from './serve.ts';
import { registerValidate } from './validate.ts';
import { registerVerify } from './verify.ts';

export const EXIT = { pass: 0, fail: 1, usage: 2, harness: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(io: Io, setExit: (code: ExitCode) => void): Command {
  const program = new Command('interop-cert')
    .description('Conformance and security test harness for apps that interoperate with WhatsApp (EU DMA)')
    .version(version())
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerValidate(program, io, setExit);
  registerServe(program, io, setExit);
  registerMedia(program, io, setExit);
  registerCandidate(program, io, setExit);
  registerList(program, io, setExit);
  registerRun(program, io, setExit);
  registerReport(program, io, setExit);
  registerMerge(program, io, setExit);
  registerVerify(program, io, setExit);
  registerReplay(program, io, setExit);
  return program;
}

/** Runs the command line; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io: Io = stdio): Promise<ExitCode> {
  let code: ExitCode = EXIT.pass;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? EXIT.pass : EXIT.usage;
    }
    if (e instanceof HarnessError) {
      io.err(e.message);
      return e.code === 'HRN_ERR_USAGE' ? EXIT.usage : EXIT.harness;
    }
    io.err(`HRN_ERR_INTERNAL: ${(e as Error).stack ?? String(e)}`);
    return EXIT.harness;
  }
}
