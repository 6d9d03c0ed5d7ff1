// sarif.json (SARIF 2.1.0), for code-scanning dashboards: one rule per requirement with a
// finding (ruleId = requirement id, properties.bugClass from the catalogue, help = quote and
// source), one result per finding (error for MUST, warning for SHOULD). There is no source file
// of the candidate to point at, so locations are logical: scenario / variant / profile / step.
// A timeout fails its scenario's requirements without a finding: one result per requirement.
// Harness errors are not findings; they are the invocation's notifications.

import { createHash } from 'node:crypto';
import type { Requirement } from '../requirements/types.ts';
import type { ReportInput } from './input.ts';
import { sourceText } from './input.ts';
import type { ResultLine } from './results.ts';

export const SARIF_FILE = 'sarif.json';
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

type Level = 'error' | 'warning' | 'note';

interface Finding {
  readonly run: ResultLine;
  readonly requirement: string;
  readonly level: Level;
  readonly code: string;
  readonly message: string;
  readonly step: string;
}

function levelOf(requirementLevel: string): Level {
  return requirementLevel === 'MUST' ? 'error' : requirementLevel === 'SHOULD' ? 'warning' : 'note';
}

function findingsOf(input: ReportInput): Finding[] {
  const out: Finding[] = [];
  for (const r of input.results) {
    for (const f of r.findings) {
      out.push({
        run: r,
        requirement: f.requirement,
        level: levelOf(f.level),
        code: f.code,
        message: f.message,
        step: f.step,
      });
    }
    if (r.outcome === 'TIMEOUT' && r.findings.length === 0) {
      for (const id of r.requirements) {
        out.push({
          run: r,
          requirement: id,
          level: levelOf(input.catalogue.byId(id)?.level ?? r.level),
          code: 'TIMEOUT',
          message: (r.reason ?? 'the candidate did not answer in time').split('\n')[0] ?? '',
          step: r.steps.find((s) => s.status !== 'ok')?.label ?? '(setup)',
        });
      }
    }
  }
  return out;
}

function rule(id: string, req: Requirement | undefined, input: ReportInput) {
  if (!req) {
    return { id, shortDescription: { text: id }, properties: {} };
  }
  const source = sourceText(req, input.catalogue);
  const doc = input.catalogue.documentById(req.source.document);
  return {
    id,
    name: req.title,
    shortDescription: { text: req.title },
    fullDescription: { text: req.rule },
    help: {
      text: `"${req.quote.trim()}"\nSource: ${source}`,
      markdown: `${req.quote
        .trim()
        .split('\n')
        .map((l) => `> ${l}`)
        .join('\n')}\n\nSource: ${source}`,
    },
    ...(doc?.url?.startsWith('https://') ? { helpUri: doc.url } : {}),
    defaultConfiguration: { level: levelOf(req.level) },
    properties: {
      bugClass: req.bugClass,
      level: req.level,
      area: req.area,
      tags: [req.bugClass, req.area, req.level],
    },
  };
}

function fingerprint(f: Finding): string {
  return createHash('sha256')
    .update(`${f.run.id}\u0000${f.run.variant}\u0000${f.run.profile}\u0000${f.requirement}\u0000${f.code}`)
    .digest('hex');
}

export function sarifLog(input: ReportInput): Record<string, unknown> {
  const findings = findingsOf(input);
  const ruleIds = [...new Set(findings.map((f) => f.requirement))].sort();
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  const errors = input.results.filter((r) => r.outcome === 'ERROR');
  const { meta } = input;
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'interop-cert',
            version: meta.harnessVersion,
            semanticVersion: meta.harnessVersion,
            rules: ruleIds.map((id) => rule(id, input.catalogue.byId(id), input)),
          },
        },
        automationDetails: { id: `interop-cert/${meta.target ?? 'candidate'}/${meta.seed}` },
        invocations: [
          {
            executionSuccessful: errors.length === 0 && !meta.partial,
            ...(meta.startedAt ? { startTimeUtc: meta.startedAt } : {}),
            ...(meta.finishedAt ? { endTimeUtc: meta.finishedAt } : {}),
            toolExecutionNotifications: errors.map((r) => ({
              level: 'error',
              message: { text: `${r.id} ${r.variant} (${r.profile}): ${r.reason ?? 'harness error'}` },
              descriptor: { id: /^(HRN_ERR_[A-Z_]+)/.exec(r.reason ?? '')?.[1] ?? 'HRN_ERR_INTERNAL' },
            })),
          },
        ],
        results: findings.map((f) => ({
          ruleId: f.requirement,
          ruleIndex: index.get(f.requirement),
          level: f.level,
          message: { text: `${f.code}: ${f.message}` },
          locations: [
            {
              logicalLocations: [
                {
                  name: f.step,
                  fullyQualifiedName: `${f.run.id}/${f.run.variant}/${f.run.profile}/${f.step}`,
                  kind: 'function',
                },
              ],
            },
          ],
          partialFingerprints: { 'interopRun/v1': fingerprint(f) },
          properties: {
            code: f.code,
            scenario: f.run.id,
            variant: f.run.variant,
            profile: f.run.profile,
            outcome: f.run.outcome,
            bugClass: input.catalogue.byId(f.requirement)?.bugClass,
            ...(f.run.evidencePath ? { evidence: f.run.evidencePath } : {}),
          },
        })),
        properties: {
          certified: input.summary.certification.certified,
          partial: meta.partial,
          candidate: meta.candidate.map((c) => ({ name: c.name, version: c.version, profile: c.profile })),
        },
      },
    ],
  };
}
