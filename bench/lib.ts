// Shared measuring for the benchmark suites: tinybench underneath, figures as operations per
// second of one unit (stanzas, messages, sessions), ratios always against a baseline measured
// in the same run.

import { Bench } from 'tinybench';

export interface BenchOptions {
  readonly root: string;
  /** Measuring time per task, milliseconds. */
  readonly timeMs: number;
}

export interface Figure {
  readonly unit: string;
  readonly perSecond: number;
  readonly meanMicros: number;
  readonly p99MicrosPerIteration: number;
  readonly samples: number;
}

export interface Ratio {
  readonly value: number;
  readonly atLeast?: number;
  readonly atMost?: number;
  readonly met?: boolean;
}

export interface SuiteReport {
  readonly corpus?: Record<string, number>;
  readonly figures: Record<string, Figure>;
  readonly ratios: Record<string, Ratio>;
}

/** Runs each task (one call = `unitsPerCall` units of work) and returns units per second. */
export async function measure(
  opts: BenchOptions,
  unitsPerCall: number,
  unit: string,
  tasks: Record<string, () => unknown>,
): Promise<Record<string, Figure>> {
  const bench = new Bench({ time: opts.timeMs, warmupTime: Math.min(500, opts.timeMs / 3) });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const figures: Record<string, Figure> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`benchmark ${task.name} did not complete (${r.state})`);
    figures[task.name] = {
      unit,
      perSecond: Math.round((unitsPerCall * 1000) / r.latency.mean),
      meanMicros: Number(((r.latency.mean * 1000) / unitsPerCall).toFixed(2)),
      p99MicrosPerIteration: Number((r.latency.p99 * 1000).toFixed(1)),
      samples: r.latency.samplesCount,
    };
  }
  return figures;
}

/** a/b in units per second, with its target when one is given. */
export function ratio(
  figures: Record<string, Figure>,
  a: string,
  b: string,
  target: { atLeast?: number; atMost?: number } = {},
): Ratio {
  const fa = figures[a]?.perSecond;
  const fb = figures[b]?.perSecond;
  if (fa === undefined || fb === undefined || fb === 0) throw new Error(`no figures for ${a} / ${b}`);
  const value = Number((fa / fb).toFixed(3));
  if (target.atLeast !== undefined) return { value, atLeast: target.atLeast, met: value >= target.atLeast };
  if (target.atMost !== undefined) return { value, atMost: target.atMost, met: value <= target.atMost };
  return { value };
}
