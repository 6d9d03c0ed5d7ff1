// Shared measuring for the benchmark suites: tinybench underneath, figures as operations per
// second of one unit (stanzas, messages, sessions), ratios always against a baseline measured
// in the same run, and the headline results every suite reports in one shape.

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

/**
 * What a headline result is held to: a ratio to its baseline at least some value (`ratio`), or
 * the value itself under a bound (`value`, e.g. seconds, bytes).
 */
export type Target =
  | { readonly of: 'ratio'; readonly atLeast: number }
  | { readonly of: 'value'; readonly below: number };

/** One headline figure of `npm run bench`, as reports/bench/latest.json and the README show it. */
export interface Result {
  readonly name: string;
  /** The measured figure, in `unit`. */
  readonly value: number;
  /** The same work done the plain way, measured in the same run; null when the target is absolute. */
  readonly baseline: number | null;
  readonly baselineUnit?: string;
  /** value / baseline (null without a baseline). */
  readonly ratio: number | null;
  readonly target: Target;
  readonly met: boolean;
  readonly unit: string;
  /** Lowest and highest ratio (or value) over the rounds measured, when there were several. */
  readonly spread?: readonly [number, number];
  readonly rounds?: number;
  /** Anything else worth keeping beside the figure: latencies, CPU per operation, exit code. */
  readonly details?: Readonly<Record<string, number | string | boolean>>;
}

export interface SuiteReport {
  /** The headline results; the rest is detail. */
  readonly results: readonly Result[];
  readonly corpus?: Record<string, number>;
  readonly figures?: Record<string, Figure>;
  readonly ratios?: Record<string, Ratio>;
}

export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** A ratio result: `value` against `baseline`, each in units per second (higher is better). */
export function ratioResult(
  name: string,
  value: number,
  baseline: number,
  atLeast: number,
  unit: string,
  extra: { baselineUnit?: string; perRound?: readonly number[]; details?: Result['details'] } = {},
): Result {
  const ratio = round(value / baseline, 3);
  const per = extra.perRound ?? [];
  return {
    name,
    value: round(value, 1),
    baseline: round(baseline, 1),
    ...(extra.baselineUnit ? { baselineUnit: extra.baselineUnit } : {}),
    ratio,
    target: { of: 'ratio', atLeast },
    met: ratio >= atLeast,
    unit,
    ...(per.length > 1
      ? { spread: [round(Math.min(...per), 3), round(Math.max(...per), 3)] as const, rounds: per.length }
      : {}),
    ...(extra.details ? { details: extra.details } : {}),
  };
}

/** An absolute result: `value` must stay below `below`. */
export function boundResult(
  name: string,
  value: number,
  below: number,
  unit: string,
  details?: Result['details'],
): Result {
  return {
    name,
    value,
    baseline: null,
    ratio: null,
    target: { of: 'value', below },
    met: value < below,
    unit,
    ...(details ? { details } : {}),
  };
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

/**
 * The machine is shared, and a burst of other work during one task's turn skews a ratio of two
 * tasks measured one after the other. So tasks are measured in rounds, the order reversed every
 * round; each task keeps its best round, and every round is returned for the spread.
 */
export async function inRounds(
  opts: BenchOptions,
  rounds: number,
  unitsPerCall: number,
  unit: string,
  tasks: Record<string, () => unknown>,
): Promise<{ best: Record<string, Figure>; each: Record<string, Figure>[] }> {
  const one: BenchOptions = { ...opts, timeMs: Math.max(300, Math.round(opts.timeMs / rounds)) };
  const best: Record<string, Figure> = {};
  const each: Record<string, Figure>[] = [];
  const entries = Object.entries(tasks);
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? entries : [...entries].reverse();
    const figures = await measure(one, unitsPerCall, unit, Object.fromEntries(order));
    each.push(figures);
    for (const [name, f] of Object.entries(figures)) {
      const b = best[name];
      if (b === undefined || f.perSecond > b.perSecond)
        best[name] = { ...f, samples: f.samples + (b?.samples ?? 0) };
      else best[name] = { ...b, samples: b.samples + f.samples };
    }
  }
  return { best, each };
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

/** The ratio of a to b in each round. */
export function roundRatios(each: readonly Record<string, Figure>[], a: string, b: string): number[] {
  return each.map((f) => (f[a]?.perSecond ?? 0) / Math.max(1, f[b]?.perSecond ?? 0));
}
