// Writes a run's directory. Two kinds of file:
//
// - the record: results.jsonl (one validated line per scenario run, appended as each run ends)
//   and evidence/ (the wire slice and the driver calls of each run that did not pass);
// - files derived from the record and the run's meta: summary.json (validated), then every
//   writer of DERIVED_WRITERS in order (compliance.md, junit.xml, sarif.json, ...).
//
// `interop-cert report DIR` rebuilds the derived files from the record alone (rebuildReport), so
// whatever a writer produces must depend on nothing else. Files are written to a temporary name
// and renamed, so a reader never sees half a file; a run cut short (a hung candidate, Ctrl-C)
// still leaves a consistent set whose summary says it is partial.

import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HarnessError } from '../codes.ts';
import type { Manifest } from '../driver/contract.ts';
import type { DriverLogEntry } from '../driver/log.ts';
import type { Catalogue, CryptoProfileId } from '../requirements/types.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import { ALLURE_RESULTS_DIR, writeAllureResults } from './allure.ts';
import { COMPLIANCE_FILE, complianceMarkdown } from './compliance.ts';
import { generateHtmlReport, HTML_REPORT_FILE } from './html.ts';
import type { FinishOptions, ReportInput } from './input.ts';
import { reportInput } from './input.ts';
import { JUNIT_FILE, junitXml } from './junit.ts';
import type { ResultLine, RunEvidence } from './results.ts';
import {
  asResult,
  driverLogPath,
  evidencePath,
  formatDriverLog,
  formatEvidence,
  formatResultLine,
  keepsEvidence,
  RESULTS_FILE,
  readResults,
  toResultLine,
} from './results.ts';
import { SIGNATURE_FILE } from './run-files.ts';
import type { CandidateInfo, RunMeta } from './run-meta.ts';
import { candidateInfo } from './run-meta.ts';
import { SARIF_FILE, sarifLog } from './sarif.ts';
import { signRunDetailed } from './sign.ts';
import type { Summary } from './summary.ts';
import { summarise } from './summary.ts';
import { assertReport, reportProblems } from './validate.ts';
import type { WaiverOutcome } from './waivers.ts';

export { evidencePath } from './results.ts';
export type { RunMeta } from './run-meta.ts';

export const SUMMARY_FILE = 'summary.json';
export const EVIDENCE_DIR = 'evidence';

/** What summary.json holds. */
export type SummaryFile = { readonly meta: RunMeta; readonly waivers?: WaiverOutcome } & Summary;

/** A file (or folder) built from a run's record. */
export interface DerivedWriter {
  /** Paths relative to the run directory that the writer owns; a new run clears them first. */
  readonly outputs: readonly string[];
  /**
   * Rewritten after every scenario run, so a run cut short leaves it current. A live writer must
   * be synchronous and quick; the others run once, when the run ends and on `report DIR`.
   */
  readonly live: boolean;
  write(input: ReportInput): void | Promise<void>;
}

export function atomicWrite(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * The derived files, in the order they are written. Add a writer here to have `run`, `report DIR`
 * and every rebuild produce its file:
 *   - allure-results/ (harness/report/allure.ts), then report.html (harness/report/html.ts),
 *     both with `live: false`;
 *   - signature.json (harness/report/sign.ts) last of all, since it hashes every file before it.
 */
export const DERIVED_WRITERS: DerivedWriter[] = [
  {
    outputs: [COMPLIANCE_FILE],
    live: true,
    write: (i) => atomicWrite(join(i.dir, COMPLIANCE_FILE), complianceMarkdown(i)),
  },
  { outputs: [JUNIT_FILE], live: true, write: (i) => atomicWrite(join(i.dir, JUNIT_FILE), junitXml(i)) },
  {
    outputs: [SARIF_FILE],
    live: true,
    write: (i) => atomicWrite(join(i.dir, SARIF_FILE), `${JSON.stringify(sarifLog(i), null, 2)}\n`),
  },
  {
    outputs: [ALLURE_RESULTS_DIR],
    live: false,
    write: (i) => {
      writeAllureResults(i.dir, {
        results: i.results.map((line) => asResult(line, i.evidence(line))),
        summary: i.summary,
        meta: i.meta,
        catalogue: i.catalogue,
      });
    },
  },
  {
    outputs: [HTML_REPORT_FILE],
    live: false,
    write: async (i) => {
      if (i.finish?.html === false || process.env.INTEROP_REPORT_HTML === 'off') {
        rmSync(join(i.dir, HTML_REPORT_FILE), { force: true });
        return;
      }
      const r = await generateHtmlReport(i.dir);
      if (!r.ok) i.finish?.notice?.(r.reason);
    },
  },
  // Last: the signature covers every file written before it.
  {
    outputs: [SIGNATURE_FILE],
    live: false,
    write: (i) => {
      const signed = signRunDetailed(i.dir, i.finish?.keyPath ? { keyPath: i.finish.keyPath } : {});
      const where = signed.keySource === 'installation' && signed.keyPath ? ` (key ${signed.keyPath})` : '';
      i.finish?.notice?.(`signed with key ${signed.file.publicKey.keyId.slice(0, 16)}${where}`);
    },
  },
];

function summaryFile(meta: RunMeta, summary: Summary, waivers?: WaiverOutcome): SummaryFile {
  return { meta, ...summary, ...(waivers ? { waivers } : {}) };
}

function writeSummary(dir: string, file: SummaryFile): void {
  const text = `${JSON.stringify(file, null, 2)}\n`;
  assertReport('summary', JSON.parse(text), `the summary of ${dir}`);
  atomicWrite(join(dir, SUMMARY_FILE), text);
}

function liveWriters(input: ReportInput): void {
  for (const w of DERIVED_WRITERS) {
    if (!w.live) continue;
    const done = w.write(input);
    if (done instanceof Promise) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `the live writer of ${w.outputs.join(', ')} is not synchronous`,
      );
    }
  }
}

async function allWriters(input: ReportInput): Promise<void> {
  for (const w of DERIVED_WRITERS) await w.write(input);
}

/** A scenario run as the run command hands it over. */
export interface RunEntry {
  readonly result: ScenarioResult;
  readonly manifest?: Manifest;
  readonly driverLog?: readonly DriverLogEntry[];
  readonly clockOffsetMs?: number;
}

export interface RunWriterOptions {
  /** The run's meta without what the writer keeps itself (candidates seen, partial, finishedAt). */
  readonly meta: Omit<RunMeta, 'partial' | 'finishedAt' | 'interrupted'>;
  readonly catalogue: Catalogue;
  /** The crypto profiles selected: the certification verdict covers their MUST requirements. */
  readonly profiles: readonly CryptoProfileId[];
}

/**
 * Writes a run as it goes: `start` clears what an earlier run left in the directory, `add` records
 * each scenario run and refreshes summary.json and the live files, `finish` writes the final
 * verdict and every derived file, `interrupt` marks the report partial and interrupted.
 */
export class RunWriter {
  readonly dir: string;
  readonly #opts: RunWriterOptions;
  readonly #lines: ResultLine[] = [];
  readonly #candidates = new Map<string, CandidateInfo>();
  readonly #cache = new Map<string, RunEvidence>();

  constructor(dir: string, opts: RunWriterOptions) {
    this.dir = dir;
    this.#opts = opts;
    for (const c of opts.meta.candidate) this.#candidates.set(c.profile, c);
  }

  get lines(): readonly ResultLine[] {
    return this.#lines;
  }

  start(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const path of [
      RESULTS_FILE,
      SUMMARY_FILE,
      EVIDENCE_DIR,
      ...DERIVED_WRITERS.flatMap((w) => w.outputs),
    ]) {
      rmSync(join(this.dir, path), { recursive: true, force: true });
    }
    writeFileSync(join(this.dir, RESULTS_FILE), '');
    this.refresh();
  }

  add(entry: RunEntry): ResultLine {
    const r = entry.result;
    const mode = this.#opts.meta.evidence ?? 'failures';
    const keep = keepsEvidence(r.outcome, mode);
    const hasWire = keep && (r.evidence.transcript.length > 0 || r.evidence.events.length > 0);
    const hasLog = keep && (entry.driverLog?.length ?? 0) > 0;
    if (hasWire) atomicWrite(join(this.dir, evidencePath(r)), formatEvidence(r.evidence));
    if (hasLog) atomicWrite(join(this.dir, driverLogPath(r)), formatDriverLog(entry.driverLog ?? []));
    const line = toResultLine(r, {
      evidence: hasWire,
      driverLog: hasLog,
      ...(entry.clockOffsetMs === undefined ? {} : { clockOffsetMs: entry.clockOffsetMs }),
    });
    // One write call per line: a run killed mid-write leaves at most an unterminated last line,
    // which readers drop.
    appendFileSync(join(this.dir, RESULTS_FILE), `${formatResultLine(line)}\n`);
    if (hasWire) this.#cache.set(evidencePath(r), r.evidence);
    if (entry.manifest && !this.#candidates.has(entry.manifest.cryptoProfile)) {
      this.#candidates.set(entry.manifest.cryptoProfile, candidateInfo(entry.manifest));
    }
    this.#lines.push(line);
    this.refresh();
    return line;
  }

  #meta(state: { partial: boolean; interrupted?: boolean }): RunMeta {
    const order = this.#opts.profiles as readonly string[];
    const candidate = [...this.#candidates.values()].sort(
      (a, b) => order.indexOf(a.profile) - order.indexOf(b.profile),
    );
    return {
      ...this.#opts.meta,
      candidate,
      ...(state.partial ? {} : { finishedAt: new Date().toISOString() }),
      partial: state.partial,
      ...(state.interrupted ? { interrupted: true } : {}),
    };
  }

  #input(meta: RunMeta, waivers?: WaiverOutcome, finish?: FinishOptions): ReportInput {
    const summary = summarise(this.#lines, this.#opts.catalogue, this.#opts.profiles);
    writeSummary(this.dir, summaryFile(meta, summary, waivers));
    return reportInput(
      {
        dir: this.dir,
        meta,
        results: this.#lines,
        summary,
        catalogue: this.#opts.catalogue,
        ...(waivers ? { waivers } : {}),
        ...(finish ? { finish } : {}),
      },
      this.#cache,
    );
  }

  /** Rewrites summary.json and the live files for the runs so far (the report says partial). */
  refresh(): void {
    liveWriters(this.#input(this.#meta({ partial: true })));
  }

  /** Synchronous, for a signal handler: the report as it stands, partial and interrupted. */
  interrupt(): void {
    liveWriters(this.#input(this.#meta({ partial: true, interrupted: true })));
  }

  /**
   * The final report: `partial` when not every planned run ended (a worker died, a hook failed);
   * `waivers`, how the run's waiver file applied to all its results.
   */
  async finish(
    opts: { partial?: boolean; waivers?: WaiverOutcome; finish?: FinishOptions } = {},
  ): Promise<Summary> {
    const input = this.#input(this.#meta({ partial: opts.partial ?? false }), opts.waivers, opts.finish);
    await allWriters(input);
    return input.summary;
  }
}

/**
 * summary.json of DIR, its meta checked; the rest is rebuilt from results.jsonl, except the
 * waiver outcome, which needed the waiver file and is kept as recorded.
 */
export function readSummaryFile(dir: string): {
  meta: RunMeta;
  profiles?: readonly CryptoProfileId[];
  waivers?: WaiverOutcome;
} {
  const path = join(dir, SUMMARY_FILE);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
  const meta = (doc as { meta?: unknown } | null)?.meta;
  const problems = reportProblems('summary-meta', meta);
  if (problems.length > 0) {
    throw new HarnessError('HRN_ERR_REPORT_INVALID', `${path}: meta ${problems.slice(0, 5).join('; ')}`);
  }
  const { profiles, waivers } = doc as { profiles?: unknown; waivers?: unknown };
  return {
    meta: meta as RunMeta,
    ...(Array.isArray(profiles) ? { profiles: profiles as CryptoProfileId[] } : {}),
    ...(typeof waivers === 'object' && waivers !== null ? { waivers: waivers as WaiverOutcome } : {}),
  };
}

/**
 * Writes summary.json and every derived file of DIR from results.jsonl and `meta` (by default
 * the meta of DIR/summary.json). Used by `interop-cert report DIR`, and by whoever assembles a
 * run directory from parts (merge).
 */
export async function rebuildReport(
  dir: string,
  opts: {
    catalogue: Catalogue;
    meta?: RunMeta;
    profiles?: readonly CryptoProfileId[];
    waivers?: WaiverOutcome;
    finish?: FinishOptions;
  },
): Promise<{ summary: Summary; results: readonly ResultLine[]; meta: RunMeta; waivers?: WaiverOutcome }> {
  const recorded = opts.meta ? undefined : readSummaryFile(dir);
  const meta = opts.meta ?? (recorded as { meta: RunMeta }).meta;
  const waivers = opts.waivers ?? recorded?.waivers;
  const results = readResults(dir);
  const profiles =
    opts.profiles ??
    recorded?.profiles ??
    ([
      ...new Set([...meta.candidate.map((c) => c.profile), ...results.map((r) => r.profile)]),
    ] as CryptoProfileId[]);
  const summary = summarise(results, opts.catalogue, profiles);
  writeSummary(dir, summaryFile(meta, summary, waivers));
  await allWriters(
    reportInput({
      dir,
      meta,
      results,
      summary,
      catalogue: opts.catalogue,
      ...(waivers ? { waivers } : {}),
      ...(opts.finish ? { finish: opts.finish } : {}),
    }),
  );
  return { summary, results, meta, ...(waivers ? { waivers } : {}) };
}

/**
 * The whole report of finished results at once (results with their evidence in memory): the
 * record, summary.json and the live derived files. Kept for callers that hold complete results
 * (merge and its tests); a live run uses RunWriter.
 */
export function writeRun(
  dir: string,
  run: {
    results: readonly ScenarioResult[];
    summary: Summary;
    meta: RunMeta;
    catalogue: Catalogue;
    evidenceAll?: boolean;
  },
): void {
  mkdirSync(dir, { recursive: true });
  const mode = run.evidenceAll ? 'all' : 'failures';
  const lines: ResultLine[] = [];
  const cache = new Map<string, RunEvidence>();
  for (const r of run.results) {
    const hasWire =
      keepsEvidence(r.outcome, mode) && (r.evidence.transcript.length > 0 || r.evidence.events.length > 0);
    if (hasWire) {
      atomicWrite(join(dir, evidencePath(r)), formatEvidence(r.evidence));
      cache.set(evidencePath(r), r.evidence);
    }
    // A result read back from a results line (merge) keeps the evidence paths it names.
    lines.push(toResultLine(r, { evidence: hasWire, driverLog: false }));
  }
  atomicWrite(join(dir, RESULTS_FILE), lines.map((l) => `${formatResultLine(l)}\n`).join(''));
  writeSummary(dir, summaryFile(run.meta, run.summary));
  liveWriters(
    reportInput(
      { dir, meta: run.meta, results: lines, summary: run.summary, catalogue: run.catalogue },
      cache,
    ),
  );
}
