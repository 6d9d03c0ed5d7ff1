// `interop-cert candidate`: the reference candidate (fixtures/candidates/reference/), a real
// third-party client, serving the driver contract over HTTP so a run can drive it like any
// vendor's app. `--fault NAME` switches on one of its deliberate defects (repeatable), to prove
// that the suite catches it; `--list-faults` prints them.

import type { Command } from 'commander';
import { Option } from 'commander';
import type { ReferenceCandidate } from '../../fixtures/candidates/reference/driver.ts';
import type { DriverServer } from '../../fixtures/candidates/reference/driver-http.ts';
import { FAULTS, parseFaults } from '../../fixtures/candidates/reference/faults.ts';
import { HarnessError } from '../codes.ts';
import type { CryptoProfileId } from '../crypto/profile.ts';
import type { ExitCode, Io } from './main.ts';
import { parsePort } from './serve.ts';

export interface CandidateOptions {
  readonly port: number;
  readonly profile: CryptoProfileId;
  readonly fault: readonly string[];
  readonly listFaults?: boolean;
}

export function listFaults(io: Io): void {
  const width = Math.max(...FAULTS.map((f) => f.name.length));
  for (const f of FAULTS) {
    const only = 'profiles' in f ? ` (${f.profiles.join(', ')} only)` : '';
    io.out(`${f.name.padEnd(width)}  ${f.area.padEnd(7)} ${f.requirements.join(' ')}${only}`);
    io.out(`${''.padEnd(width)}  ${f.description}`);
  }
}

/** Starts the candidate and its driver server; returns both, for the command and for tests. */
export async function startCandidate(
  opts: Omit<CandidateOptions, 'listFaults'>,
  io: Io,
): Promise<{ candidate: ReferenceCandidate; server: DriverServer }> {
  let faults: ReturnType<typeof parseFaults>;
  try {
    faults = parseFaults(opts.fault, opts.profile);
  } catch (e) {
    throw new HarnessError('HRN_ERR_USAGE', (e as Error).message);
  }
  // Loaded here, not with the command line: the candidate brings both Signal libraries along.
  const { ReferenceCandidate } = await import('../../fixtures/candidates/reference/driver.ts');
  const { serveDriver } = await import('../../fixtures/candidates/reference/driver-http.ts');
  const candidate = new ReferenceCandidate({ profile: opts.profile, faults });
  const server = await serveDriver(candidate, opts.port);
  io.out(`interop-cert reference candidate, ${opts.profile}`);
  io.out(`  driver contract  ${server.url}/v1/manifest`);
  io.out(`  faults           ${faults.size === 0 ? 'none' : [...faults].join(', ')}`);
  io.out('Ctrl-C stops it.');
  return { candidate, server };
}

export function registerCandidate(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('candidate')
    .description('run the reference candidate (a real client) serving the driver contract over HTTP')
    .addOption(
      new Option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)').argParser(parsePort).default(0),
    )
    .addOption(
      new Option('--profile <p>', 'crypto profile')
        .choices(['signal-pqxdh', 'signal-x3dh'])
        .default('signal-pqxdh'),
    )
    .addOption(
      new Option('--fault <name>', 'switch on a deliberate defect (repeatable; see --list-faults)')
        .argParser((v: string, prev: string[] = []) => [...prev, v])
        .default([]),
    )
    .option('--list-faults', 'print the deliberate defects and exit')
    .action(async (opts: CandidateOptions) => {
      if (opts.listFaults) {
        listFaults(io);
        setExit(0);
        return;
      }
      const { candidate, server } = await startCandidate(opts, io);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.out('stopping...');
          Promise.all([candidate.close(), server.close()]).then(
            () => resolve(),
            () => resolve(),
          );
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      setExit(0);
    });
}
