// How `interop-cert run` shows a run as it goes. On a terminal: one progress bar (done / total,
// failures so far, time left), with every run that did not pass printed above it. Elsewhere (no
// TTY, CI=true, --json): plain lines, one per finished run, which a CI log keeps readable.

import cliProgress from 'cli-progress';
import type { ScenarioResult } from '../scenario/runner.ts';
import { QUIET_OUTCOMES } from '../scenario/runner.ts';
import type { Io } from './main.ts';

export interface Progress {
  /** How many runs will run; may come after the first result. */
  planned(total: number): void;
  result(r: ScenarioResult): void;
  stop(): void;
}

/** One run, as a line (and its findings indented below). */
export function resultLine(r: ScenarioResult): string {
  const head = `${r.outcome.padEnd(14)} ${r.id} ${r.variant} (${r.profile}) ${r.durationMs} ms`;
  const more = r.findings.map(
    (f) => `\n    ${f.level} ${f.code} ${f.requirement} at "${f.step}": ${f.message}`,
  );
  const reason = r.reason && r.outcome !== 'PASS' ? `\n    ${r.reason.split('\n')[0]}` : '';
  return `${head}${reason}${more.join('')}`;
}

/** Whether to draw the bar: a terminal on both streams, not CI, not machine output. */
export function interactive(opts: { json?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return (
    !opts.json &&
    process.stdout.isTTY === true &&
    process.stderr.isTTY === true &&
    env.CI !== 'true' &&
    env.CI !== '1'
  );
}

export function plainProgress(io: Io, opts: { json?: boolean } = {}): Progress {
  return {
    planned() {},
    result(r) {
      io.out(opts.json ? JSON.stringify({ ...r, evidence: undefined }) : resultLine(r));
    },
    stop() {},
  };
}

export function barProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: ' {bar} {value}/{total} runs | {failures} failing | {eta_formatted} left | {last}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 30,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let done = 0;
  let failures = 0;
  const ensure = () => {
    bar ??= bars.create(Math.max(total, done), done, { failures, last: '' });
    return bar;
  };
  return {
    planned(n) {
      total = n;
      ensure().setTotal(Math.max(n, done));
    },
    result(r) {
      done += 1;
      if (r.outcome === 'FAIL' || r.outcome === 'TIMEOUT' || r.outcome === 'ERROR') failures += 1;
      if (!QUIET_OUTCOMES.has(r.outcome)) bars.log(`${resultLine(r)}\n`);
      ensure().update(done, { failures, last: `${r.id} ${r.variant}` });
    },
    stop() {
      bars.stop();
    },
  };
}
