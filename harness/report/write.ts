// Writes a run's files: results.jsonl (one line per scenario run), summary.json, compliance.md
// and the wire evidence of every run that did not pass. Each file is written to a temporary
// name and renamed, so a reader never sees half a file; a run cut short still leaves a
// consistent set that says it is partial.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalogue } from '../requirements/types.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import type { Summary } from './summary.ts';

export interface RunMeta {
  readonly harnessVersion: string;
  readonly contractVersion: string;
  readonly candidate: { readonly name: string; readonly version: string; readonly profile: string }[];
  readonly seed: string;
  readonly filter?: string;
  readonly faults?: readonly string[];
  readonly node: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly partial: boolean;
}

function atomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function evidencePath(r: ScenarioResult): string {
  return join('evidence', r.id, `${safe(r.variant)}.${r.profile}.wire.jsonl`);
}

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
  const lines: string[] = [];
  for (const r of run.results) {
    const keep = run.evidenceAll || !['PASS', 'INFORMATIONAL', 'NOT_APPLICABLE'].includes(r.outcome);
    let evidence: string | undefined;
    if (keep) {
      evidence = evidencePath(r);
      mkdirSync(join(dir, 'evidence', r.id), { recursive: true });
      const wire = [
        ...r.evidence.transcript.map((e) => JSON.stringify(e)),
        ...r.evidence.events.map((e) => JSON.stringify({ kind: 'candidate-event', ...e })),
      ];
      atomic(join(dir, evidence), `${wire.join('\n')}\n`);
    }
    const { evidence: _drop, ...line } = r;
    lines.push(JSON.stringify({ ...line, ...(evidence ? { evidencePath: evidence } : {}) }));
  }
  atomic(join(dir, 'results.jsonl'), lines.length > 0 ? `${lines.join('\n')}\n` : '');
  atomic(join(dir, 'summary.json'), `${JSON.stringify({ meta: run.meta, ...run.summary }, null, 2)}\n`);
  atomic(join(dir, 'compliance.md'), compliance(run));
}

function compliance(run: {
  results: readonly ScenarioResult[];
  summary: Summary;
  meta: RunMeta;
  catalogue: Catalogue;
}): string {
  const { summary, meta, catalogue } = run;
  const c = summary.certification;
  const out: string[] = [];
  out.push('# Compliance report', '');
  if (meta.partial) out.push('**PARTIAL RUN: the run did not finish; this report covers what ran.**', '');
  out.push(
    `**Verdict: ${c.certified ? 'CERTIFIED' : 'NOT CERTIFIED'}**  (${c.mustPassed} of ${c.mustTotal} MUST requirements passed)`,
    '',
  );
  for (const r of c.reasons) out.push(`- ${r}`);
  out.push('');
  out.push(
    `Candidate: ${meta.candidate.map((x) => `${x.name} ${x.version} (${x.profile})`).join(', ')}. Harness ${meta.harnessVersion}, driver contract ${meta.contractVersion}, seed ${meta.seed}${meta.faults?.length ? `, faults ${meta.faults.join(' ')}` : ''}.`,
    '',
  );
  out.push('| outcome | runs |', '| --- | --- |');
  for (const [o, n] of Object.entries(summary.counts)) if (n > 0) out.push(`| ${o} | ${n} |`);
  out.push('');
  const failing = summary.requirements.filter((r) => r.verdict === 'FAIL');
  if (failing.length > 0) {
    out.push('## Failed MUST requirements', '');
    for (const row of failing) {
      const req = catalogue.byId(row.id);
      out.push(`### ${row.id}: ${req?.title ?? ''}`, '');
      if (req) out.push(`> ${req.quote}`, '', `Source: ${req.source.document} ${req.source.section}`, '');
      for (const r of run.results.filter(
        (x) => x.requirements.includes(row.id) && (x.outcome === 'FAIL' || x.outcome === 'TIMEOUT'),
      )) {
        out.push(
          `- ${r.id} [${r.variant}] ${r.profile}: ${r.outcome}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`,
        );
        for (const f of r.findings.filter((x) => x.requirement === row.id)) {
          out.push(`  - ${f.code} at step "${f.step}": ${f.message}`);
        }
        out.push(`  - evidence: ${evidencePath(r)}`);
      }
      out.push('');
    }
  }
  const soft = summary.requirements.filter((r) => r.verdict === 'NON_STRICT');
  if (soft.length > 0) {
    out.push('## SHOULD findings', '');
    for (const row of soft)
      out.push(`- ${row.id} ${catalogue.byId(row.id)?.title ?? ''}: ${row.codes.join(', ')}`);
    out.push('');
  }
  const gaps = summary.requirements.filter((r) => r.verdict === 'NOT_TESTED');
  if (gaps.length > 0) {
    out.push('## Coverage gaps', '', `${gaps.length} requirement(s) no scenario checked:`, '');
    out.push(gaps.map((r) => `${r.id} (${r.level})`).join(', '), '');
  }
  return `${out.join('\n')}\n`;
}
