// compliance.md, for a person: the verdict first; then each failed MUST requirement with its
// quote, its source, the failing step and a short wire excerpt; then harness errors, SHOULD
// findings, what did not apply, the coverage gaps, and how the waivers applied. Every claim
// points to its evidence file.

import type { Requirement } from '../requirements/types.ts';
import type { Outcome } from '../scenario/runner.ts';
import type { Excerpt } from './excerpt.ts';
import type { ReportInput } from './input.ts';
import { sourceText } from './input.ts';
import type { ResultLine } from './results.ts';
import type { RequirementRow } from './summary.ts';
import { runKey } from './summary.ts';
import { waiverMarkdown } from './waivers.ts';

export const COMPLIANCE_FILE = 'compliance.md';

/** Runs shown in full under one requirement; the rest are listed by key. */
const RUNS_SHOWN = 3;

const FAILING: ReadonlySet<Outcome> = new Set(['FAIL', 'TIMEOUT']);

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function inline(text: string): string {
  return firstLine(text).replace(/\|/g, '\\|');
}

function quoteBlock(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .map((l) => `> ${l}`);
}

function fence(lines: readonly string[]): string[] {
  // A fence longer than any backtick run inside, so a stanza cannot close it.
  const longest = Math.max(
    2,
    ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))),
  );
  const f = '`'.repeat(longest + 1);
  return [f, ...lines, f];
}

function excerptBlock(ex: Excerpt | undefined, line: ResultLine, indent: string): string[] {
  if (!ex || ex.lines.length === 0) return [];
  const where = line.evidencePath ? ` (from ${line.evidencePath})` : '';
  const head = `${indent}- wire${where}${ex.before > 0 ? `, ${ex.before} earlier entries left out` : ''}:`;
  const body = fence(ex.lines).map((l) => `${indent}  ${l}`);
  return [
    head,
    '',
    ...body,
    ...(ex.after > 0 ? ['', `${indent}  (${ex.after} later entries left out)`] : []),
    '',
  ];
}

function failingRuns(input: ReportInput, row: RequirementRow): ResultLine[] {
  return input.results.filter(
    (r) =>
      FAILING.has(r.outcome) &&
      r.requirements.includes(row.id) &&
      (r.findings.length === 0 || r.findings.some((f) => f.requirement === row.id && f.level === 'MUST')),
  );
}

/**
 * Failed MUST requirements in reading order. First those a finding names: a timeout with no
 * finding fails every requirement of its scenario, so a requirement some check named is where to
 * start. Then security before functionality (a broken integrity or confidentiality rule matters
 * more than the feature that exposed it), then the most findings and failing runs.
 */
function failedMustOrder(input: ReportInput, rows: readonly RequirementRow[]): RequirementRow[] {
  const named = (row: RequirementRow) =>
    input.results.filter((r) => r.findings.some((f) => f.requirement === row.id && f.level === 'MUST'))
      .length;
  const security = (row: RequirementRow) => input.catalogue.byId(row.id)?.bugClass !== 'FUNCTIONALITY';
  const failing = (row: RequirementRow) => failingRuns(input, row).length;
  return [...rows].sort(
    (a, b) =>
      Number(named(b) > 0) - Number(named(a) > 0) ||
      Number(security(b)) - Number(security(a)) ||
      named(b) - named(a) ||
      failing(b) - failing(a) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function requirementHead(id: string, req: Requirement | undefined, input: ReportInput): string[] {
  const out = [`### ${id}: ${req?.title ?? '(not in the catalogue)'}`, ''];
  if (req) {
    out.push(...quoteBlock(req.quote), '', `Source: ${sourceText(req, input.catalogue)}`, '');
  }
  return out;
}

function runBlock(input: ReportInput, r: ResultLine, requirement: string): string[] {
  const out = [`- **${r.id}** \`${r.variant}\` ${r.profile}: ${r.outcome}`];
  const findings = r.findings.filter((f) => f.requirement === requirement);
  for (const f of findings) out.push(`  - ${f.code} at step "${f.step}": ${f.message}`);
  if (findings.length === 0 && r.reason) out.push(`  - ${firstLine(r.reason)}`);
  const failedStep = r.steps.find((s) => s.status !== 'ok');
  if (findings.length === 0 && failedStep) out.push(`  - failing step: "${failedStep.label}"`);
  out.push(...excerptBlock(input.excerpt(r, findings[0]), r, '  '));
  if (r.driverLogPath) out.push(`  - driver calls: ${r.driverLogPath}`);
  return out;
}

function candidateLine(input: ReportInput): string {
  const { meta } = input;
  const who =
    meta.candidate.length > 0
      ? meta.candidate.map((c) => `${c.name} ${c.version} (${c.profile})`).join(', ')
      : (meta.target ?? 'unknown');
  const parts = [
    `Harness ${meta.harnessVersion}`,
    `driver contract ${meta.contractVersion}`,
    `seed ${meta.seed}`,
    ...(meta.faults?.length ? [`faults ${meta.faults.join(' ')}`] : []),
    ...(meta.filter ? [`filter ${meta.filter}`] : []),
    ...(meta.tags ? [`tags ${meta.tags}`] : []),
    ...(meta.shard ? [`shard ${meta.shard.index}/${meta.shard.count}`] : []),
  ];
  return `Candidate: ${who}. ${parts.join(', ')}.`;
}

export function complianceMarkdown(input: ReportInput): string {
  const { summary, catalogue, results, meta } = input;
  const c = summary.certification;
  const out: string[] = ['# Compliance report', ''];
  if (meta.partial) {
    const why = meta.interrupted ? 'the run was interrupted' : 'the run did not finish';
    out.push(`**PARTIAL RUN: ${why}; this report covers the ${results.length} runs that ended.**`, '');
  }
  out.push(
    `**Verdict: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'}** (${c.mustPassed} of ${c.mustTotal} MUST requirements passed)`,
    '',
  );
  for (const r of c.reasons) out.push(`- ${r}`);
  if (c.reasons.length > 0) out.push('');
  out.push(candidateLine(input), '');
  out.push('| outcome | runs |', '| --- | --- |');
  for (const [o, n] of Object.entries(summary.counts)) if (n > 0) out.push(`| ${o} | ${n} |`);
  out.push('');

  const failedMust = failedMustOrder(
    input,
    summary.requirements.filter((r) => r.verdict === 'FAIL' && r.level === 'MUST'),
  );
  if (failedMust.length > 0) {
    out.push(`## Failed MUST requirements (${failedMust.length})`, '');
    for (const row of failedMust) {
      out.push(...requirementHead(row.id, catalogue.byId(row.id), input));
      const runs = failingRuns(input, row);
      for (const r of runs.slice(0, RUNS_SHOWN)) out.push(...runBlock(input, r, row.id));
      if (runs.length > RUNS_SHOWN) {
        out.push(`- and ${runs.length - RUNS_SHOWN} more: ${runs.slice(RUNS_SHOWN).map(runKey).join('; ')}`);
      }
      out.push('');
    }
  }

  const errors = results.filter((r) => r.outcome === 'ERROR');
  if (errors.length > 0) {
    out.push(
      `## Harness errors (${errors.length} runs)`,
      '',
      'A harness or driver fault, never blamed on the candidate; it invalidates certification.',
      '',
    );
    for (const r of errors) out.push(`- ${runKey(r)}: ${inline(r.reason ?? 'no reason recorded')}`);
    out.push('');
  }

  const soft = summary.requirements.filter(
    (r) => r.verdict === 'NON_STRICT' || (r.verdict === 'FAIL' && r.level !== 'MUST'),
  );
  if (soft.length > 0) {
    out.push(`## SHOULD findings (${soft.length})`, '');
    for (const row of soft) {
      const req = catalogue.byId(row.id);
      out.push(...requirementHead(row.id, req, input));
      const runs = results.filter((r) => r.findings.some((f) => f.requirement === row.id));
      for (const r of runs.slice(0, RUNS_SHOWN)) out.push(...runBlock(input, r, row.id));
      if (runs.length > RUNS_SHOWN) out.push(`- and ${runs.length - RUNS_SHOWN} more`);
      out.push('');
    }
  }

  const skipped = results.filter((r) => r.outcome === 'NOT_APPLICABLE');
  if (skipped.length > 0) {
    out.push(
      `## Not applicable (${skipped.length} runs)`,
      '',
      'Runs that need a feature the manifest does not declare, or another profile. A skip never counts as a pass.',
      '',
    );
    for (const r of skipped) out.push(`- ${runKey(r)}: ${inline(r.reason ?? '')}`);
    out.push('');
  }

  const untested = summary.requirements.filter((r) => r.verdict === 'NOT_TESTED');
  const onlySkipped = summary.requirements.filter((r) => r.verdict === 'NOT_APPLICABLE');
  if (untested.length > 0 || onlySkipped.length > 0) {
    out.push('## Coverage gaps', '');
    if (untested.length > 0) {
      out.push(`${untested.length} requirement(s) no scenario of this run checked:`, '');
      out.push(untested.map((r) => `${r.id} (${r.level})`).join(', '), '');
    }
    if (onlySkipped.length > 0) {
      out.push(`${onlySkipped.length} requirement(s) whose every run did not apply:`, '');
      out.push(onlySkipped.map((r) => `${r.id} (${r.level})`).join(', '), '');
    }
  }
  const waivers = input.waivers ? waiverMarkdown(input.waivers) : '';
  return `${out.join('\n')}\n${waivers}`;
}
