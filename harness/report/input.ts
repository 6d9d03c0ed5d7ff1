// What every file derived from a run is built from: the run's metadata, its result lines, the
// verdicts, the catalogue, and the evidence of each line on demand. A live run and
// `interop-cert report DIR` build the same input, so a rebuilt report equals the one the run
// wrote.

import type { Catalogue, Requirement } from '../requirements/types.ts';
import type { Excerpt } from './excerpt.ts';
import { wireExcerpt } from './excerpt.ts';
import type { ResultLine, RunEvidence } from './results.ts';
import { readEvidence } from './results.ts';
import type { RunMeta } from './run-meta.ts';
import type { Summary } from './summary.ts';
import type { WaiverOutcome } from './waivers.ts';

export interface FinishOptions {
  /** Build report.html (needs Java); off with `--no-html` or INTEROP_REPORT_HTML=off. */
  readonly html?: boolean;
  /** The Ed25519 key that signs the run (`--key`); else INTEROP_CERT_KEY or the installation's key. */
  readonly keyPath?: string;
  /** Where one-line notices go (no Java, where the key lives). */
  readonly notice?: (line: string) => void;
}

export interface ReportInput {
  /** The run directory; derived files are written into it. */
  readonly dir: string;
  readonly meta: RunMeta;
  readonly results: readonly ResultLine[];
  readonly summary: Summary;
  readonly catalogue: Catalogue;
  /** How the run's waiver file applied (`--waivers`), when it had one. */
  readonly waivers?: WaiverOutcome;
  /** How the files written at the end of a run are made (HTML report, signing key, notices). */
  readonly finish?: FinishOptions;
  /** The wire evidence of a line (empty when the run kept none), read once. */
  evidence(line: ResultLine): RunEvidence;
  /** The wire excerpt for one finding of a line, or for the line as a whole. */
  excerpt(line: ResultLine, finding?: ResultLine['findings'][number]): Excerpt | undefined;
}

/**
 * An input whose evidence comes from the files under `dir`. `cache` may be shared between
 * inputs of the same run (a live run builds one per result): evidence files never change once
 * written.
 */
export function reportInput(
  parts: Omit<ReportInput, 'evidence' | 'excerpt'>,
  cache: Map<string, RunEvidence> = new Map(),
): ReportInput {
  const evidence = (line: ResultLine): RunEvidence => {
    if (!line.evidencePath) return { transcript: [], events: [] };
    let e = cache.get(line.evidencePath);
    if (!e) {
      e = readEvidence(parts.dir, line);
      cache.set(line.evidencePath, e);
    }
    return e;
  };
  return {
    ...parts,
    evidence,
    excerpt: (line, finding) => wireExcerpt(line, evidence(line).transcript, finding),
  };
}

/** `Document title, section` with the document's address when it has one. */
export function sourceText(req: Requirement, catalogue: Catalogue): string {
  const doc = catalogue.documentById(req.source.document);
  const title = doc ? `${doc.title}${doc.version ? ` (${doc.version})` : ''}` : req.source.document;
  const where = `${title}, ${req.source.section}`;
  return doc?.url ? `${where} <${doc.url}${req.source.anchor ?? ''}>` : where;
}
