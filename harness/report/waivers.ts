// Waivers: known failures a vendor accepts for a while (DESIGN.md, docs/WAIVERS.md). A waiver
// changes the exit code of a run for the failures it covers, never a verdict: the summary still
// says FAIL, and the waiver outcome is reported beside it. Every entry has a reason, an owner and
// an expiry date, so a waiver cannot quietly outlive the problem it excuses; one that covers a
// scenario which now passes is reported as stale so it gets removed.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import type { HarnessErrorCode, ViolationCode } from '../codes.ts';
import { HarnessError, isCode } from '../codes.ts';
import type { Catalogue, CryptoProfileId } from '../requirements/types.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { createAjv } from '../schema/ajv.ts';
import { runKey } from './summary.ts';

export const WAIVER_SCHEMA_PATH = fileURLToPath(
  new URL('../../schemas/report/waiver.schema.json', import.meta.url),
);

export interface Waiver {
  /** 1-based position in the file, so messages can name the entry. */
  readonly index: number;
  /** `file:line` of the entry. */
  readonly where: string;
  readonly scenario?: string;
  readonly requirement?: string;
  readonly variant?: string;
  readonly profile?: CryptoProfileId;
  readonly reason: string;
  readonly owner: string;
  /** Last day (UTC) the waiver applies, YYYY-MM-DD. */
  readonly expires: string;
  readonly codes?: readonly ViolationCode[];
}

export interface WaiverSet {
  readonly path: string;
  /** SHA-256 of the file as read, so a signed report can bind the waivers it used. */
  readonly sha256: string;
  readonly waivers: readonly Waiver[];
}

export interface LoadWaiverOptions {
  readonly catalogue: Catalogue;
  /** Every scenario id the harness knows; scenario names and globs must match one of them. */
  readonly scenarioIds: readonly string[];
  /** The day of the run (default: today); a waiver whose expiry is before it is refused. */
  readonly now?: Date;
}

/** A waiver file was refused; `problems` holds one line per entry at fault. */
export class WaiverError extends HarnessError {
  readonly problems: readonly { readonly code: HarnessErrorCode; readonly message: string }[];
  constructor(
    headline: string,
    problems: readonly { readonly code: HarnessErrorCode; readonly message: string }[],
  ) {
    const first = problems[0]?.code ?? 'HRN_ERR_WAIVER_INVALID';
    const lines = problems.map((p) => `  ${p.code} ${p.message}`);
    super(first, `${headline}:\n${lines.join('\n')}`);
    this.name = 'WaiverError';
    this.problems = problems;
  }
}

/** `*` and `?` globs over scenario ids, e.g. `E2EE-REPLAY-*`. */
export function scenarioGlob(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** `waiver 2 (E2EE-REPLAY-001, REQ-E2EE-006) at waivers.yml:7` */
export function describeWaiver(w: Waiver): string {
  const what = [w.scenario, w.requirement, w.variant, w.profile].filter((x) => x !== undefined).join(', ');
  return `waiver ${w.index} (${what}) at ${w.where}`;
}

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (validator === undefined) {
    const schema: unknown = JSON.parse(readFileSync(WAIVER_SCHEMA_PATH, 'utf8'));
    try {
      validator = createAjv().compile(schema as object);
    } catch (err) {
      throw new HarnessError('HRN_ERR_SCHEMA_COMPILE', `${WAIVER_SCHEMA_PATH}: ${String(err)}`, {
        cause: err,
      });
    }
  }
  return validator;
}

function describeSchemaError(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties')
    return `has unknown property "${String(params.additionalProperty)}"`;
  if (e.keyword === 'enum') return `must be one of ${JSON.stringify(params.allowedValues)}`;
  if (e.keyword === 'const') return `must be ${JSON.stringify(params.allowedValue)}`;
  if (e.keyword === 'anyOf') return 'must name a scenario or a requirement (or both)';
  return e.message ?? 'is invalid';
}

/** UTC calendar day of `now`, YYYY-MM-DD; compares correctly as a string. */
function day(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Reads a waiver file (YAML, or JSON, which is YAML too), validates it against
 * schemas/report/waiver.schema.json, and refuses it, naming every entry at fault, when an entry
 * has expired or names a scenario, requirement or code the harness does not know.
 */
export function loadWaivers(path: string, opts: LoadWaiverOptions): WaiverSet {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new WaiverError(`waiver file ${path} cannot be read`, [
      { code: 'HRN_ERR_WAIVER_INVALID', message: (err as Error).message },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(bytes.toString('utf8'), { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new WaiverError(
      `waiver file ${path} is not valid YAML or JSON`,
      doc.errors.map((e) => ({
        code: 'HRN_ERR_WAIVER_INVALID' as const,
        message: `${path}:${lineCounter.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const lineOf = (pointer: string): number | undefined => {
    const keys = pointer
      .split('/')
      .slice(1)
      .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const data: unknown = doc.toJS();
  const validate = schemaValidator();
  if (!validate(data)) {
    throw new WaiverError(
      `waiver file ${path} breaks schemas/report/waiver.schema.json`,
      (validate.errors ?? []).map((e) => {
        const where = e.instancePath === '' ? '/' : e.instancePath;
        const entry = /^\/waivers\/(\d+)/.exec(e.instancePath);
        const which = entry ? `waiver ${Number(entry[1]) + 1}: ` : '';
        return {
          code: 'HRN_ERR_WAIVER_INVALID' as const,
          message: `${path}:${lineOf(e.instancePath) ?? 1}: ${which}${where} ${describeSchemaError(e)}`,
        };
      }),
    );
  }

  const raw = (data as { waivers: Omit<Waiver, 'index' | 'where'>[] }).waivers;
  const waivers: Waiver[] = raw.map((w, i) => ({
    ...w,
    index: i + 1,
    where: `${path}:${lineOf(`/waivers/${i}`) ?? 1}`,
  }));

  const today = day(opts.now ?? new Date());
  const problems: { code: HarnessErrorCode; message: string }[] = [];
  for (const w of waivers) {
    const name = describeWaiver(w);
    if (w.scenario !== undefined) {
      const re = scenarioGlob(w.scenario);
      if (!opts.scenarioIds.some((id) => re.test(id))) {
        const what = /[*?]/.test(w.scenario) ? 'matches no scenario' : 'is not a scenario';
        problems.push({ code: 'HRN_ERR_WAIVER_UNKNOWN_ID', message: `${name}: ${w.scenario} ${what}` });
      }
    }
    if (w.requirement !== undefined) {
      const req = opts.catalogue.byId(w.requirement);
      if (req === undefined) {
        problems.push({
          code: 'HRN_ERR_WAIVER_UNKNOWN_ID',
          message: `${name}: ${w.requirement} is not in the requirement catalogue`,
        });
      } else if (req.retired) {
        const instead = req.replacedBy ? `; name ${req.replacedBy} instead` : '';
        problems.push({
          code: 'HRN_ERR_WAIVER_UNKNOWN_ID',
          message: `${name}: ${w.requirement} is retired${instead}`,
        });
      }
    }
    for (const c of w.codes ?? []) {
      if (!isCode(c)) {
        problems.push({
          code: 'HRN_ERR_WAIVER_UNKNOWN_ID',
          message: `${name}: ${c} is not a violation code`,
        });
      }
    }
    if (w.expires < today) {
      problems.push({
        code: 'HRN_ERR_WAIVER_EXPIRED',
        message: `${name}: expired on ${w.expires} (owner ${w.owner}); renew it with a new date or fix the failure`,
      });
    }
  }
  if (problems.length > 0) throw new WaiverError(`waiver file ${path} is refused`, problems);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), waivers };
}

// ---- applying waivers to results ----------------------------------------------------------------

/** Outcomes a waiver can cover. ERROR never: it is the harness's fault and voids certification. */
export const WAIVABLE: ReadonlySet<Outcome> = new Set(['FAIL', 'TIMEOUT', 'NON_STRICT']);
/** Outcomes that make the exit code 1 unless waived (NON_STRICT is reported, not failed). */
const EXIT_FAILING: ReadonlySet<Outcome> = new Set(['FAIL', 'TIMEOUT']);

export type WaiverStatus = 'applied' | 'stale' | 'unmatched' | 'not-covering';

export interface WaiverReport {
  readonly waiver: Waiver;
  /**
   * applied: it covered at least one finding; stale: what it names ran and passed (remove it);
   * unmatched: nothing it names ran; not-covering: what it names still fails, but with codes it
   * does not list.
   */
  readonly status: WaiverStatus;
  /** Runs (`ID variant profile`) it covered, or for stale and not-covering, the runs it names. */
  readonly runs: readonly string[];
}

/** A piece of a failure: a finding, or for a failure without findings, one of its requirements. */
export interface FailureUnit {
  readonly requirement: string;
  readonly code?: ViolationCode;
}

export interface WaivedRun {
  readonly run: string;
  readonly outcome: Outcome;
  /** Indices of the waivers that covered it. */
  readonly waivers: readonly number[];
}

export interface UnwaivedRun {
  readonly run: string;
  readonly outcome: Outcome;
  /** What no waiver covered. */
  readonly uncovered: readonly FailureUnit[];
}

export interface WaiverOutcome {
  readonly file?: { readonly path: string; readonly sha256: string };
  /** Failing runs every finding of which a waiver covers. */
  readonly waived: readonly WaivedRun[];
  /** Failing runs with at least one finding no waiver covers. */
  readonly unwaived: readonly UnwaivedRun[];
  /** One report per waiver, in file order. */
  readonly waivers: readonly WaiverReport[];
}

export interface ApplyWaiverOptions {
  readonly catalogue: Catalogue;
  /** A certification run: a waiver touching a MUST requirement is refused. */
  readonly certify?: boolean;
  /**
   * Every scenario of the suite with its requirements, so a certification run also refuses a
   * waiver on a MUST scenario that this run did not select.
   */
  readonly scenarios?: readonly { readonly id: string; readonly requirements: readonly string[] }[];
}

function ran(r: ScenarioResult): boolean {
  return r.outcome !== 'NOT_APPLICABLE' && r.outcome !== 'ERROR';
}

/** What failed in a run. A failure without findings (a timeout) fails each of its requirements. */
export function failureUnits(r: ScenarioResult): FailureUnit[] {
  if (!WAIVABLE.has(r.outcome)) return [];
  if (r.findings.length > 0) return r.findings.map((f) => ({ requirement: f.requirement, code: f.code }));
  return r.requirements.map((requirement) => ({ requirement }));
}

function selects(w: Waiver, r: Pick<ScenarioResult, 'id' | 'variant' | 'profile'>): boolean {
  if (w.scenario !== undefined && !scenarioGlob(w.scenario).test(r.id)) return false;
  if (w.variant !== undefined && w.variant !== r.variant) return false;
  if (w.profile !== undefined && w.profile !== r.profile) return false;
  return true;
}

/** The waiver names this run: its scenario filters match and it checks the waived requirement. */
function targets(w: Waiver, r: ScenarioResult): boolean {
  if (!selects(w, r)) return false;
  const req = w.requirement;
  return req === undefined || r.requirements.includes(req) || r.findings.some((f) => f.requirement === req);
}

function aboutSubject(w: Waiver, u: FailureUnit): boolean {
  return w.requirement === undefined || u.requirement === w.requirement;
}

function covers(w: Waiver, u: FailureUnit): boolean {
  if (!aboutSubject(w, u)) return false;
  return w.codes === undefined || (u.code !== undefined && w.codes.includes(u.code));
}

/** The MUST requirements a waiver could cover: its own, or every one of the scenarios it names. */
function mustsTouched(w: Waiver, results: readonly ScenarioResult[], opts: ApplyWaiverOptions): string[] {
  const isMust = (id: string) => opts.catalogue.byId(id)?.level === 'MUST';
  if (w.requirement !== undefined) return isMust(w.requirement) ? [w.requirement] : [];
  const reqs = new Set<string>();
  for (const r of results) {
    if (!selects(w, r)) continue;
    for (const id of r.requirements) reqs.add(id);
    for (const f of r.findings) reqs.add(f.requirement);
  }
  const re = w.scenario === undefined ? undefined : scenarioGlob(w.scenario);
  for (const s of opts.scenarios ?? []) {
    if (re?.test(s.id)) for (const id of s.requirements) reqs.add(id);
  }
  return [...reqs].filter(isMust).sort();
}

/**
 * Decides which failing runs the waivers cover, and reports each waiver as applied, stale,
 * unmatched or not-covering. A run counts as waived only when every one of its findings is
 * covered, so a new failure in a waived scenario still fails the run. Throws
 * HRN_ERR_WAIVER_MUST in a certification run when a waiver touches a MUST requirement.
 */
export function applyWaivers(
  results: readonly ScenarioResult[],
  set: WaiverSet | readonly Waiver[],
  opts: ApplyWaiverOptions,
): WaiverOutcome {
  const waivers = 'waivers' in set ? set.waivers : set;
  if (opts.certify) {
    const problems = waivers.flatMap((w) => {
      const musts = mustsTouched(w, results, opts);
      return musts.length === 0
        ? []
        : [
            {
              code: 'HRN_ERR_WAIVER_MUST' as const,
              message: `${describeWaiver(w)} covers MUST requirement(s) ${musts.join(', ')}`,
            },
          ];
    });
    if (problems.length > 0) {
      throw new WaiverError('a waiver cannot cover a MUST requirement in a certification run', problems);
    }
  }

  const used = new Map<number, Set<string>>();
  const waived: WaivedRun[] = [];
  const unwaived: UnwaivedRun[] = [];
  for (const r of results) {
    if (!ran(r) || !WAIVABLE.has(r.outcome)) continue;
    const applicable = waivers.filter((w) => targets(w, r));
    const by = new Set<number>();
    const uncovered: FailureUnit[] = [];
    for (const u of failureUnits(r)) {
      const covering = applicable.filter((w) => covers(w, u));
      if (covering.length === 0) uncovered.push(u);
      for (const w of covering) {
        by.add(w.index);
        const runs = used.get(w.index) ?? new Set<string>();
        runs.add(runKey(r));
        used.set(w.index, runs);
      }
    }
    if (uncovered.length === 0) {
      waived.push({ run: runKey(r), outcome: r.outcome, waivers: [...by].sort((a, b) => a - b) });
    } else {
      unwaived.push({ run: runKey(r), outcome: r.outcome, uncovered });
    }
  }

  const reports: WaiverReport[] = waivers.map((w) => {
    const hits = used.get(w.index);
    if (hits) return { waiver: w, status: 'applied', runs: [...hits] };
    const named = results.filter((r) => ran(r) && targets(w, r));
    if (named.length === 0) return { waiver: w, status: 'unmatched', runs: [] };
    const stillFailing = named.some((r) => failureUnits(r).some((u) => aboutSubject(w, u)));
    return { waiver: w, status: stillFailing ? 'not-covering' : 'stale', runs: named.map(runKey) };
  });

  return {
    ...('waivers' in set ? { file: { path: set.path, sha256: set.sha256 } } : {}),
    waived,
    unwaived,
    waivers: reports,
  };
}

export type WaiverExitCode = 0 | 1 | 3;

/**
 * The exit code of a run (DESIGN.md): 3 when any run is ERROR (never waivable); in a
 * certification run 1 unless certified (waivers never change that verdict); otherwise 1 when a
 * FAIL or TIMEOUT is not covered by a waiver, else 0.
 */
export function exitCode(
  results: readonly ScenarioResult[],
  outcome?: WaiverOutcome,
  opts: { readonly certified?: boolean } = {},
): WaiverExitCode {
  if (results.some((r) => r.outcome === 'ERROR')) return 3;
  if (opts.certified !== undefined) return opts.certified ? 0 : 1;
  const waived = new Set((outcome?.waived ?? []).map((w) => w.run));
  return results.some((r) => EXIT_FAILING.has(r.outcome) && !waived.has(runKey(r))) ? 1 : 0;
}

/** One line per waiver for a terminal: `stale    waiver 2 (...) at f.yml:7: ...`. */
export function waiverLines(outcome: WaiverOutcome): string[] {
  const say: Record<WaiverStatus, string> = {
    applied: 'covers',
    stale: 'is stale: what it names now passes; remove it:',
    unmatched: 'matches nothing that ran',
    'not-covering': 'covers nothing: what it names fails with other codes:',
  };
  return outcome.waivers.map(
    (r) =>
      `${r.status.padEnd(12)} ${describeWaiver(r.waiver)} ${say[r.status]}${r.runs.length > 0 ? ` ${r.runs.join('; ')}` : ''}`,
  );
}

/** The waivers section of compliance.md; empty when the run used no waiver file. */
export function waiverMarkdown(outcome: WaiverOutcome): string {
  if (outcome.waivers.length === 0 && outcome.file === undefined) return '';
  const out: string[] = ['## Waivers', ''];
  out.push(
    'Waivers change the exit code for known failures, never a verdict: the requirements above keep their verdicts.',
    '',
  );
  if (outcome.file) out.push(`File: \`${outcome.file.path}\` (sha256 ${outcome.file.sha256})`, '');
  out.push(
    `${outcome.waived.length} failing run(s) waived, ${outcome.unwaived.length} failing run(s) not waived.`,
    '',
  );
  if (outcome.waivers.length > 0) {
    out.push('| # | names | status | owner | expires | reason |', '| --- | --- | --- | --- | --- | --- |');
    for (const r of outcome.waivers) {
      const w = r.waiver;
      const names = [w.scenario, w.requirement, w.variant, w.profile, ...(w.codes ?? [])]
        .filter((x) => x !== undefined)
        .join(' ');
      const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      out.push(
        `| ${w.index} | ${cell(names)} | ${r.status} | ${cell(w.owner)} | ${w.expires} | ${cell(w.reason)} |`,
      );
    }
    out.push('');
  }
  const stale = outcome.waivers.filter((r) => r.status === 'stale');
  if (stale.length > 0) {
    out.push('Stale waivers (what they name ran and passed; remove them):', '');
    for (const r of stale) out.push(`- ${describeWaiver(r.waiver)}: ${r.runs.join('; ')}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
