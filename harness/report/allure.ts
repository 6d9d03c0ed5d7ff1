// A run's results in the Allure result format (DIR/allure-results/), so `allure generate` can
// build the HTML report. One result file per scenario run, with the requirement text as the
// description, the findings as the status message, the steps, and the wire excerpt attached.
// The model types and the file writer are allure-js-commons'; only executor.json, which the
// writer has no method for, is written here.

import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Attachment, Label, Link, StatusDetails, StepResult, TestResult } from 'allure-js-commons';
import { ContentType, LabelName, LinkType, Severity, Stage, Status } from 'allure-js-commons';
import type { Category, ExecutorInfo } from 'allure-js-commons/sdk';
import { FileSystemWriter, md5 } from 'allure-js-commons/sdk/reporter';
import type { CodeCategory } from '../codes.ts';
import { CODES } from '../codes.ts';
import type { Catalogue, RequirementLevel } from '../requirements/types.ts';
import type { Finding } from '../scenario/context.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import { QUIET_OUTCOMES } from '../scenario/runner.ts';
import type { Summary } from './summary.ts';

export const ALLURE_RESULTS_DIR = 'allure-results';

/** What the Allure files show of a run's metadata (summary.json `meta` has all of it and more). */
export interface AllureMeta {
  readonly harnessVersion: string;
  readonly contractVersion: string;
  readonly candidate: readonly {
    readonly name: string;
    readonly version: string;
    readonly profile: string;
  }[];
  readonly target?: string;
  readonly seed: string;
  readonly filter?: string;
  readonly tags?: string;
  /** `--shard i/n`, as text or as the run's meta records it. */
  readonly shard?: string | { readonly index: number; readonly count: number };
  readonly faults?: readonly string[];
  readonly evidence?: 'failures' | 'all';
  readonly node: string;
  readonly startedAt: string;
  readonly partial: boolean;
  readonly interrupted?: boolean;
}

export interface AllureRun {
  readonly results: readonly ScenarioResult[];
  readonly summary: Pick<Summary, 'profiles' | 'certification'>;
  readonly meta: AllureMeta;
  readonly catalogue: Catalogue;
  /**
   * Attach the wire evidence of every run, not only of runs that did not pass; defaults to
   * `meta.evidence === 'all'`. Runs without evidence get no attachment.
   */
  readonly evidenceAll?: boolean;
}

export interface AllureWritten {
  /** DIR/allure-results */
  readonly resultsDir: string;
  readonly results: number;
  readonly attachments: number;
}

const STATUS: Readonly<Record<Outcome, Status>> = {
  PASS: Status.PASSED,
  FAIL: Status.FAILED,
  TIMEOUT: Status.FAILED,
  ERROR: Status.BROKEN,
  NOT_APPLICABLE: Status.SKIPPED,
  // Only SHOULD findings: not a failure, but tagged and explained so it does not pass unseen.
  NON_STRICT: Status.PASSED,
  INFORMATIONAL: Status.PASSED,
};

const SEVERITY: Readonly<Record<RequirementLevel, Severity>> = {
  MUST: Severity.CRITICAL,
  SHOULD: Severity.NORMAL,
  MAY: Severity.MINOR,
};

/** Outcomes whose wire excerpt is attached by default, as writeRun keeps their evidence. */

export function verdictLine(summary: Pick<Summary, 'certification'>): string {
  const c = summary.certification;
  return `${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'} (${c.mustPassed}/${c.mustTotal} MUST requirements passed)`;
}

/** Stable across runs: Allure joins a scenario run's history by it. */
export function historyIdOf(r: Pick<ScenarioResult, 'id' | 'variant' | 'profile'>): string {
  return md5(`${r.id}\u0000${r.variant}\u0000${r.profile}`);
}

/** `AREA-TOPIC-NNN` -> area and topic. */
function areaTopic(id: string): { area: string; topic: string } {
  const [area = id, topic = id] = id.split('-');
  return { area, topic };
}

// A uuid-shaped name derived from the run and the result, so rebuilding the report of the same
// run writes the same files (the signature binds every report file's hash).
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function findingLine(f: Finding): string {
  return `${f.code} ${f.requirement} (${f.level}) at step "${f.step}": ${f.message}`;
}

// The first word is the outcome: categories.json matches on it.
function statusDetailsOf(r: ScenarioResult): StatusDetails {
  const firstReason = r.reason?.split('\n')[0];
  const lines: string[] = [];
  const musts = r.findings.filter((f) => f.level === 'MUST').length;
  const shoulds = r.findings.filter((f) => f.level === 'SHOULD').length;
  if (r.findings.length > 0) {
    const parts = [musts ? `${musts} MUST` : '', shoulds ? `${shoulds} SHOULD` : ''].filter(Boolean);
    lines.push(`${r.outcome}: ${parts.join(', ')} finding(s)`);
    for (const f of r.findings) lines.push(findingLine(f));
    if (firstReason) lines.push(`ended: ${firstReason}`);
  } else if (firstReason) {
    lines.push(firstReason.startsWith(r.outcome) ? firstReason : `${r.outcome}: ${firstReason}`);
  } else if (r.outcome !== 'PASS') {
    lines.push(r.outcome);
  }
  const details: StatusDetails = {};
  if (lines.length > 0) details.message = lines.join('\n');
  // A harness error's stack, or any reason longer than its first line.
  if (r.reason?.includes('\n')) details.trace = r.reason;
  return details;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function describe(r: ScenarioResult, catalogue: Catalogue): { text: string; html: string; links: Link[] } {
  const text: string[] = [];
  const html: string[] = [];
  const links: Link[] = [];
  for (const id of r.requirements) {
    const req = catalogue.byId(id);
    if (!req) {
      text.push(`${id}: not in the catalogue`);
      html.push(`<h4>${escapeHtml(id)}</h4><p>not in the catalogue</p>`);
      continue;
    }
    const doc = catalogue.documentById(req.source.document);
    const source = `${doc?.title ?? req.source.document}${doc?.version ? ` (${doc.version})` : ''}, ${req.source.section}`;
    text.push(`${req.id} (${req.level}): ${req.title}`, `> ${req.quote}`, `Source: ${source}`, '');
    html.push(
      `<h4>${escapeHtml(req.id)} (${req.level}): ${escapeHtml(req.title)}</h4>`,
      `<blockquote>${escapeHtml(req.quote)}</blockquote>`,
      `<p>Source: ${escapeHtml(source)}</p>`,
    );
    // A link is followed only when a reader clicks it: nothing is fetched when the report opens.
    if (doc?.url?.startsWith('https://')) {
      const url = req.source.anchor ? `${doc.url}#${req.source.anchor}` : doc.url;
      if (!links.some((l) => l.url === url))
        links.push({ name: `${req.id} source`, url, type: LinkType.DEFAULT });
    }
  }
  if (r.reason && r.outcome === 'NOT_APPLICABLE') {
    text.push(`Not applicable: ${r.reason}`);
    html.push(`<p>Not applicable: ${escapeHtml(r.reason)}</p>`);
  }
  return { text: text.join('\n'), html: html.join('\n'), links };
}

function labelsOf(r: ScenarioResult): Label[] {
  const { area, topic } = areaTopic(r.id);
  const labels: Label[] = [
    { name: LabelName.PARENT_SUITE, value: r.profile },
    { name: LabelName.SUITE, value: area },
    { name: LabelName.SUB_SUITE, value: r.id },
    { name: LabelName.EPIC, value: area },
    { name: LabelName.FEATURE, value: `${area}-${topic}` },
    ...r.requirements.map((id) => ({ name: LabelName.STORY, value: id })),
    { name: LabelName.SEVERITY, value: SEVERITY[r.level] },
    { name: LabelName.TAG, value: r.profile },
    { name: LabelName.FRAMEWORK, value: 'interop-cert' },
    { name: 'outcome', value: r.outcome },
  ];
  // Outcomes Allure has no status for stay visible as tags.
  if (r.outcome === 'NON_STRICT' || r.outcome === 'INFORMATIONAL' || r.outcome === 'TIMEOUT') {
    labels.push({ name: LabelName.TAG, value: r.outcome });
  }
  return labels;
}

const STEP_STATUS: Readonly<Record<ScenarioResult['steps'][number]['status'], Status>> = {
  ok: Status.PASSED,
  failed: Status.FAILED,
  error: Status.BROKEN,
};

function findingStep(f: Finding, at: number): StepResult {
  return {
    name: `${f.level} ${f.code} ${f.requirement}: ${f.message}`,
    status: f.level === 'MUST' ? Status.FAILED : Status.PASSED,
    statusDetails: { message: findingLine(f) },
    stage: Stage.FINISHED,
    steps: [],
    attachments: [],
    parameters: [],
    start: at,
    stop: at,
  };
}

// The scenario's named steps; each finding becomes a child of the step it was raised in, and
// findings raised outside any step go under a last "checks" step.
function stepsOf(r: ScenarioResult, stop: number): StepResult[] {
  const steps: StepResult[] = r.steps.map((s) => {
    const own = r.findings.filter((f) => f.step === s.label);
    const end = s.startedAt + s.durationMs;
    let status = STEP_STATUS[s.status];
    if (status === Status.PASSED && own.some((f) => f.level === 'MUST')) status = Status.FAILED;
    return {
      name: s.label,
      status,
      statusDetails: s.error ? { message: s.error } : {},
      stage: Stage.FINISHED,
      steps: own.map((f) => findingStep(f, end)),
      attachments: [],
      parameters: [],
      start: s.startedAt,
      stop: end,
    };
  });
  const labels = new Set(r.steps.map((s) => s.label));
  const loose = r.findings.filter((f) => !labels.has(f.step));
  if (loose.length > 0) {
    steps.push({
      name: 'checks',
      status: loose.some((f) => f.level === 'MUST') ? Status.FAILED : Status.PASSED,
      statusDetails: {},
      stage: Stage.FINISHED,
      steps: loose.map((f) => findingStep(f, stop)),
      attachments: [],
      parameters: [],
      start: stop,
      stop,
    });
  }
  return steps;
}

// Categories match the status message, whose first word is the outcome and whose lines name the
// codes: one category per code category of codes.ts, then timeouts, harness errors and SHOULD
// findings. Allure puts a result in the first category that matches.
export function categoriesOf(): Category[] {
  const byCategory = new Map<CodeCategory, string[]>();
  for (const [code, info] of Object.entries(CODES)) {
    if (!code.startsWith('VIO_')) continue;
    byCategory.set(info.category, [...(byCategory.get(info.category) ?? []), code]);
  }
  const categories: Category[] = [...byCategory].map(([category, codes]) => ({
    name: `MUST violations: ${category}`,
    description: `A MUST check failed with a ${category} code (${codes.length} codes in this category).`,
    matchedStatuses: [Status.FAILED],
    messageRegex: `(?s)(FAIL|TIMEOUT)\\b.*\\b(${codes.join('|')})\\b.*`,
  }));
  categories.push(
    {
      name: 'Timeouts',
      description: 'The candidate did not answer in time; counts as a failure.',
      matchedStatuses: [Status.FAILED],
      messageRegex: '(?s)TIMEOUT\\b.*',
    },
    {
      name: 'Harness errors (ERROR)',
      description:
        'A harness or driver fault (HRN_ERR_*): never blamed on the candidate; invalidates certification.',
      matchedStatuses: [Status.BROKEN],
    },
    {
      name: 'SHOULD findings (NON_STRICT)',
      description: 'Only SHOULD checks were violated.',
      matchedStatuses: [Status.PASSED],
      messageRegex: '(?s)NON_STRICT\\b.*',
    },
  );
  return categories;
}

function environmentOf(run: AllureRun): Record<string, string> {
  const { meta, summary } = run;
  const env: Record<string, string> = {
    VERDICT: verdictLine(summary),
    'MUST passed': `${summary.certification.mustPassed}/${summary.certification.mustTotal}`,
    'Harness version': meta.harnessVersion,
    'Driver contract version': meta.contractVersion,
    Candidate: meta.candidate.map((c) => `${c.name} ${c.version} (${c.profile})`).join(', ') || '(none)',
    Profiles: summary.profiles.join(', '),
    Seed: meta.seed,
    Faults: meta.faults?.length ? meta.faults.join(' ') : 'none',
    Node: meta.node,
    Started: meta.startedAt,
  };
  if (meta.target) env.Target = meta.target;
  if (meta.filter) env.Filter = meta.filter;
  if (meta.tags) env.Tags = meta.tags;
  if (meta.shard)
    env.Shard = typeof meta.shard === 'string' ? meta.shard : `${meta.shard.index}/${meta.shard.count}`;
  if (meta.partial) {
    env['PARTIAL RUN'] =
      `the run did not finish${meta.interrupted ? ' (interrupted)' : ''}; this report covers what ran`;
  }
  summary.certification.reasons.forEach((reason, i) => {
    env[`Reason ${i + 1}`] = reason;
  });
  return env;
}

function jsonl(items: readonly unknown[]): string {
  return items.length > 0 ? `${items.map((x) => JSON.stringify(x)).join('\n')}\n` : '';
}

/**
 * Writes DIR/allure-results/ for a run, replacing any results a previous run left there (a
 * reused --out directory must not mix two runs in one report).
 */
export function writeAllureResults(dir: string, run: AllureRun): AllureWritten {
  const resultsDir = join(dir, ALLURE_RESULTS_DIR);
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const writer = new FileSystemWriter({ resultsDir });
  const evidenceAll = run.evidenceAll ?? run.meta.evidence === 'all';
  let attachments = 0;
  const attach = (uuid: string, name: string, suffix: string, type: string, body: string): Attachment => {
    const source = `${uuid}-${suffix}`;
    writer.writeAttachment(source, Buffer.from(body, 'utf8'));
    attachments += 1;
    return { name, type, source, size: Buffer.byteLength(body) };
  };

  // Results carry durations, not start times: the runs are laid end to end from the run's start,
  // except that a run with steps starts at its first step's real clock.
  let cursor = Date.parse(run.meta.startedAt) || 0;
  run.results.forEach((r, index) => {
    const historyId = historyIdOf(r);
    const uuid = uuidOf(`${run.meta.startedAt}\u0000${index}\u0000${historyId}`);
    const firstStep = r.steps[0];
    const start = firstStep ? firstStep.startedAt : cursor;
    const stepsEnd = Math.max(0, ...r.steps.map((s) => s.startedAt + s.durationMs));
    const stop = Math.max(start + r.durationMs, stepsEnd);
    cursor = Math.max(cursor, stop);

    const files: Attachment[] = [];
    const { transcript, events } = r.evidence;
    if ((evidenceAll || !QUIET_OUTCOMES.has(r.outcome)) && transcript.length + events.length > 0) {
      files.push(
        attach(uuid, 'wire excerpt (transcript JSONL)', 'wire.txt', ContentType.TEXT, jsonl(transcript)),
        attach(uuid, 'candidate events', 'events.json', ContentType.JSON, JSON.stringify(events, null, 2)),
      );
    }
    if (r.notes.length > 0) {
      files.push(attach(uuid, 'notes', 'notes.json', ContentType.JSON, JSON.stringify(r.notes, null, 2)));
    }
    const { text, html, links } = describe(r, run.catalogue);
    const { area, topic } = areaTopic(r.id);
    const result: TestResult = {
      uuid,
      historyId,
      testCaseId: md5(r.id),
      name: `${r.id} ${r.variant} (${r.profile})`,
      fullName: `${r.profile}/${r.id}/${r.variant}`,
      titlePath: [r.profile, area, `${area}-${topic}`, r.id],
      status: STATUS[r.outcome],
      statusDetails: statusDetailsOf(r),
      stage: Stage.FINISHED,
      description: text,
      descriptionHtml: html,
      steps: stepsOf(r, stop),
      attachments: files,
      parameters: [
        { name: 'variant', value: r.variant },
        { name: 'profile', value: r.profile },
        { name: 'outcome', value: r.outcome },
      ],
      labels: labelsOf(r),
      links,
      start,
      stop,
    };
    writer.writeResult(result);
  });

  writer.writeEnvironmentInfo(environmentOf(run));
  writer.writeCategoriesDefinitions(categoriesOf());
  const executor: ExecutorInfo = {
    name: 'interop-cert',
    type: 'interop-cert',
    buildName: `seed ${run.meta.seed}, started ${run.meta.startedAt}`,
    // Allure shows the report name at the top of the overview: the verdict goes there.
    reportName: `interop-cert: ${verdictLine(run.summary)}${run.meta.partial ? ' (PARTIAL RUN)' : ''}`,
  };
  const tmp = join(resultsDir, `.executor.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify(executor));
  renameSync(tmp, join(resultsDir, 'executor.json'));
  return { resultsDir, results: run.results.length, attachments };
}
