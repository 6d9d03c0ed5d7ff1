// `interop-cert report DIR`: rebuilds a run's derived files (summary.json, compliance.md,
// junit.xml, sarif.json and every other writer of harness/report/write.ts) from DIR/results.jsonl
// and the run's meta in DIR/summary.json. After a harness upgrade, or a hand-assembled run
// directory, the report is made again without running anything. The exit code is the run's, as
// `run` would give it: 0 pass (or only waived failures), 1 candidate failures (or not certified,
// for a --certify run), 3 harness errors in the run; 2 for a directory that is not a run.

import type { Command } from 'commander';
import { HarnessError } from '../codes.ts';
import { waiverLines } from '../report/waivers.ts';
import { rebuildReport } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { ExitCode, Io } from './main.ts';
import { runExitCode } from './run.ts';

export function registerReport(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('report')
    .description('rebuild summary.json, compliance.md, junit.xml and sarif.json of a run from its results')
    .argument('<dir>', 'the run directory (run --out DIR)')
    .action(async (dir: string) => {
      let rebuilt: Awaited<ReturnType<typeof rebuildReport>>;
      try {
        rebuilt = await rebuildReport(dir, { catalogue: loadCatalogue() });
      } catch (e) {
        // A directory that is not a run (or not one this harness can read) is the caller's to fix.
        if (e instanceof HarnessError && (e.code === 'HRN_ERR_IO' || e.code === 'HRN_ERR_REPORT_INVALID')) {
          throw new HarnessError('HRN_ERR_USAGE', e.message);
        }
        throw e;
      }
      const { summary, results, meta, waivers } = rebuilt;
      const counts = Object.entries(summary.counts).filter(([, n]) => n > 0);
      io.out(`${results.length} scenario runs: ${counts.map(([o, n]) => `${n} ${o}`).join(', ') || 'none'}`);
      if (meta.partial) io.out('PARTIAL: the run did not finish; the report covers what ran');
      const c = summary.certification;
      io.out(
        `certification: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'} (${c.mustPassed}/${c.mustTotal} MUST requirements passed)`,
      );
      if (waivers) for (const l of waiverLines(waivers)) io.out(`waiver ${l}`);
      io.out(`report: ${dir}/compliance.md`);
      const runs = results.map((r) => ({ ...r, evidence: { transcript: [], events: [] } }));
      // A partial run is reported as it stands: its exit code is that of the runs it holds.
      setExit(
        runExitCode(runs, {
          harnessErrors: [],
          partial: false,
          waivers,
          certified: meta.certify ? c.certified : undefined,
        }),
      );
    });
}
