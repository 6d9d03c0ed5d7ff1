// A short wire excerpt for a finding: the few transcript entries a reader should look at first,
// one line each, long stanzas cut. Where to look, best first:
//   1. a frame the server flagged with the finding's own code (a stanza violation);
//   2. the entries recorded while the failing step ran, or up to the next step for a check made
//      after it (step times are wall clock, the transcript is on the server clock; the run's
//      recorded offset maps one onto the other); a long step shows how it began and ended;
//   3. the last entries of the run, where a scenario usually decides.
// The whole slice is in the evidence file the excerpt points to.

import type { Finding } from '../scenario/context.ts';
import type { TranscriptEntry } from '../server/types.ts';
import type { ResultLine } from './results.ts';

export interface ExcerptOptions {
  /** Entries shown; default 8. */
  readonly maxLines?: number;
  /** Characters of a stanza shown; default 160. */
  readonly maxChars?: number;
}

export interface Excerpt {
  /** Which rule picked the entries. */
  readonly anchor: 'violation' | 'step' | 'end';
  readonly lines: readonly string[];
  /** Entries of the run's slice left out before and after the excerpt. */
  readonly before: number;
  readonly after: number;
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function flagsOf(violations: readonly { code: string }[] | undefined): string {
  return violations?.length ? `  [${violations.map((v) => v.code).join(', ')}]` : '';
}

export function formatEntry(e: TranscriptEntry, maxChars = 160): string {
  if (e.kind === 'frame') {
    const arrow = e.direction === 'c2s' ? '->' : '<-';
    const who = e.address ?? e.connection;
    return `#${e.seq} ${arrow} ${who}  ${cut(String(e.stanza), maxChars)}${flagsOf(e.violations)}`;
  }
  const detail = e.detail ? ` ${cut(JSON.stringify(e.detail), maxChars)}` : '';
  return `#${e.seq} .. ${e.event}${e.address ? ` ${e.address}` : ''}${detail}${flagsOf(e.violations)}`;
}

function window(
  entries: readonly TranscriptEntry[],
  from: number,
  to: number,
  anchor: Excerpt['anchor'],
  maxChars: number,
): Excerpt {
  const start = Math.max(0, from);
  const end = Math.min(entries.length, to);
  return {
    anchor,
    lines: entries.slice(start, end).map((e) => formatEntry(e, maxChars)),
    before: start,
    after: entries.length - end,
  };
}

/** A long step: how it began (what was done) and how it ended (where it was decided). */
function stepWindow(
  entries: readonly TranscriptEntry[],
  first: number,
  last: number,
  max: number,
  maxChars: number,
): Excerpt {
  const count = last - first + 1;
  if (count <= max) return window(entries, first, last + 1, 'step', maxChars);
  const head = Math.ceil(max / 2);
  const tail = max - head;
  const pick = [...entries.slice(first, first + head), ...entries.slice(last + 1 - tail, last + 1)];
  const lines = pick.map((e) => formatEntry(e, maxChars));
  lines.splice(head, 0, `... ${count - max} entries of the step left out ...`);
  return { anchor: 'step', lines, before: first, after: entries.length - last - 1 };
}

/** The excerpt for `finding` of `line`, or for the run as a whole (a timeout has no finding). */
export function wireExcerpt(
  line: Pick<ResultLine, 'steps' | 'clockOffsetMs'>,
  all: readonly TranscriptEntry[],
  finding?: Pick<Finding, 'code' | 'step'>,
  options: ExcerptOptions = {},
): Excerpt | undefined {
  // Only entries the server recorded; anything else in an evidence file is not wire.
  const entries = all.filter((e) => e.kind === 'frame' || e.kind === 'event');
  if (entries.length === 0) return undefined;
  const max = options.maxLines ?? 8;
  const chars = options.maxChars ?? 160;
  if (finding) {
    const flagged = entries.findIndex((e) => (e.violations ?? []).some((v) => v.code === finding.code));
    if (flagged >= 0) {
      const lead = Math.floor((max - 1) / 2);
      return window(entries, flagged - lead, flagged - lead + max, 'violation', chars);
    }
    // `after: LABEL` is a check made between steps, judging what step LABEL did: its window
    // runs on to the next step.
    const after = finding.step.startsWith('after: ');
    const label = after ? finding.step.slice('after: '.length) : finding.step;
    const at = line.steps.findIndex((s) => s.label === label);
    const step = line.steps[at];
    if (step && line.clockOffsetMs !== undefined) {
      const from = step.startedAt + line.clockOffsetMs;
      const next = after ? line.steps.slice(at + 1).find((s) => s.startedAt >= step.startedAt) : undefined;
      const to = after
        ? next
          ? next.startedAt + line.clockOffsetMs - 1
          : Number.POSITIVE_INFINITY
        : from + step.durationMs;
      const first = entries.findIndex((e) => e.clock >= from);
      let last = -1;
      entries.forEach((e, i) => {
        if (e.clock <= to) last = i;
      });
      if (first >= 0 && last >= first) return stepWindow(entries, first, last, max, chars);
    }
  }
  return window(entries, entries.length - max, entries.length, 'end', chars);
}
