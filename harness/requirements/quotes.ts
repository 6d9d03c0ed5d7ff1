// Checks the catalogue's quotes of the interop profile (docs/PROFILE.md) against the profile.
//
// A requirement that cites `PROFILE` quotes one or two sentences of it. The quote has to be
// verbatim: after both sides are normalised the same way (`normaliseProse`), it occurs in the
// profile's prose, inside the section the requirement cites or one of that section's
// subsections. Its RFC 2119 keywords decide the level: where they all name one level, the
// requirement has that level; where they name several, the requirement has one of them.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Catalogue, Requirement, RequirementLevel } from './types.ts';

export const PROFILE_DOCUMENT_ID = 'PROFILE';
export const DEFAULT_PROFILE_PATH = fileURLToPath(new URL('../../docs/PROFILE.md', import.meta.url));

/** One numbered heading of the profile and the prose up to the next heading. */
export interface ProfileSection {
  /** The section number without the sign: `5.3`. */
  readonly number: string;
  /** The heading as the catalogue cites it: `§5.3 Key directory`. */
  readonly name: string;
  /** 1-based line of the heading. */
  readonly line: number;
  /** The section's own prose (subsections excluded, code blocks left out), normalised. */
  readonly text: string;
}

const HEADING = /^#{1,6}\s+(§(\d+(?:\.\d+)*)\s+\S.*?)\s*$/;
const FENCE = /^\s*(```|~~~)/;

/**
 * Splits the profile into its numbered sections (`## §5 Flows`, `### §5.3 Key directory`).
 * Fenced code blocks (examples) are not prose and are left out; text before the first numbered
 * heading belongs to no section.
 */
export function parseProfile(markdown: string): ProfileSection[] {
  const sections: ProfileSection[] = [];
  let current: { number: string; name: string; line: number; lines: string[] } | undefined;
  let fence: string | undefined;
  const close = () => {
    if (current !== undefined) {
      const { lines, ...rest } = current;
      sections.push({ ...rest, text: normaliseProse(lines.join('\n')) });
    }
  };
  for (const [i, line] of markdown.split(/\r?\n/).entries()) {
    const f = FENCE.exec(line);
    if (fence !== undefined) {
      if (f !== null && f[1] === fence) fence = undefined;
      continue;
    }
    if (f !== null) {
      fence = f[1];
      continue;
    }
    const h = HEADING.exec(line);
    if (h !== null) {
      close();
      current = { number: h[2] ?? '', name: h[1] ?? '', line: i + 1, lines: [] };
    } else if (/^#{1,6}\s/.test(line)) {
      close();
      current = undefined;
    } else {
      current?.lines.push(line);
    }
  }
  close();
  return sections;
}

const CODE_SPAN = /(`+)([\s\S]*?)\1/g;

/**
 * The comparable form of Markdown prose or of a quote: Markdown syntax is taken away and
 * whitespace collapsed, so a quote may be written as plain text. Takes away: table pipes and
 * separator rows, list markers, backticks (code spans keep their text), `**`/`__`/`*`/`_`
 * emphasis, `[text](url)` links (the text stays), backslash escapes, source tags such as `[RO]`
 * or `[WM]`, and the marker `(harness profile)` or `(harness profile: ...)`.
 */
export function normaliseProse(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .filter((l) => !(/^[\s|:-]*$/.test(l) && l.includes('|') && l.includes('-')))
    .map((l) => l.replace(/^\s*(?:[-+*]|\d+\.)\s+/, ''));
  const joined = lines.join('\n');
  let out = '';
  let last = 0;
  for (const m of joined.matchAll(CODE_SPAN)) {
    out += prose(joined.slice(last, m.index)) + (m[2] ?? '').trim();
    last = m.index + m[0].length;
  }
  out += prose(joined.slice(last));
  return out.replace(/\s+/g, ' ').trim();
}

/** Markdown outside code spans. */
function prose(text: string): string {
  return text
    .replace(/(\\)?\|/g, (_, escaped) => (escaped === undefined ? ' ' : '|')) // an escaped pipe is text
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .replace(/\[([^\]\n]+)\]\([^)\s]*\)/g, '$1')
    .replace(/\s*\*{0,2}\(harness\s+profile(?::[^)]*)?\)\*{0,2}/g, '')
    .replace(/\s*\[[A-Z][A-Za-z0-9-]*\](?!\()/g, '')
    .replace(/\*+/g, '')
    .replace(/(^|[^\p{L}\p{N}_])_+(?=\S)/gu, '$1')
    .replace(/(\S)_+(?=$|[^\p{L}\p{N}_])/gu, '$1');
}

/** The sections in which `quote` occurs, whole words at both ends. */
export function locateQuote(sections: readonly ProfileSection[], quote: string): ProfileSection[] {
  const q = normaliseProse(quote);
  if (q === '') return [];
  return sections.filter((s) => occursAsWords(s.text, q));
}

function occursAsWords(text: string, q: string): boolean {
  const word = /[\p{L}\p{N}]/u;
  const isWord = (c: string | undefined) => c !== undefined && word.test(c);
  // A quote that starts or ends inside a word ("polit" of "polite") does not count.
  const startsWord = isWord(q[0]);
  const endsWord = isWord(q[q.length - 1]);
  for (let i = text.indexOf(q); i >= 0; i = text.indexOf(q, i + 1)) {
    if (startsWord && isWord(text[i - 1])) continue;
    if (endsWord && isWord(text[i + q.length])) continue;
    return true;
  }
  return false;
}

/** True when `cited` (`§5`, `§5.3 Key directory`) is `section` or one of its ancestors. */
export function sectionCovers(cited: string, section: ProfileSection): boolean {
  const m = /^§(\d+(?:\.\d+)*)(?:\s|$)/.exec(cited);
  if (m === null) return false;
  const n = m[1] ?? '';
  return section.number === n || section.number.startsWith(`${n}.`);
}

const KEYWORDS =
  /\b(MUST NOT|MUST|SHALL NOT|SHALL|REQUIRED|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED|MAY|OPTIONAL)\b/g;

const KEYWORD_LEVEL: Record<string, RequirementLevel> = {
  'MUST NOT': 'MUST',
  MUST: 'MUST',
  'SHALL NOT': 'MUST',
  SHALL: 'MUST',
  REQUIRED: 'MUST',
  'SHOULD NOT': 'SHOULD',
  SHOULD: 'SHOULD',
  'NOT RECOMMENDED': 'SHOULD',
  RECOMMENDED: 'SHOULD',
  MAY: 'MAY',
  OPTIONAL: 'MAY',
};

/** The BCP 14 keywords of a text, in capitals only, in order: `['MUST NOT', 'SHOULD']`. */
export function keywordsOf(text: string): string[] {
  return [...normaliseProse(text).matchAll(KEYWORDS)].map((m) => m[1] ?? '');
}

/** The level each keyword stands for: MUST, SHOULD or MAY. */
export function keywordLevel(keyword: string): RequirementLevel {
  const level = KEYWORD_LEVEL[keyword];
  if (level === undefined) throw new Error(`not a BCP 14 keyword: ${keyword}`);
  return level;
}

/** Reads and splits the profile. */
export function loadProfile(path = DEFAULT_PROFILE_PATH): ProfileSection[] {
  return parseProfile(readFileSync(path, 'utf8'));
}

/** The live requirements that cite the profile. */
export function profileRequirements(catalogue: Catalogue): Requirement[] {
  return catalogue.requirements.filter(
    (r) => r.retired !== true && r.source.document === PROFILE_DOCUMENT_ID,
  );
}

/**
 * Every problem with one requirement's quote of the profile: not found verbatim, found outside
 * the cited section, without a BCP 14 keyword, or a level its keywords do not give.
 */
export function quoteProblems(r: Requirement, sections: readonly ProfileSection[]): string[] {
  const problems: string[] = [];
  const found = locateQuote(sections, r.quote);
  if (found.length === 0) {
    problems.push(`${r.id}: quote is not verbatim in the profile`);
  } else if (!found.some((s) => sectionCovers(r.source.section, s))) {
    const where = found.map((s) => `"${s.name}"`).join(', ');
    problems.push(`${r.id}: quote is in ${where}, not in the cited "${r.source.section}"`);
  }
  const levels = new Set(keywordsOf(r.quote).map(keywordLevel));
  if (levels.size === 0) {
    problems.push(`${r.id}: quote has no MUST, SHOULD or MAY (or another BCP 14 keyword)`);
  } else if (!levels.has(r.level)) {
    problems.push(`${r.id}: level ${r.level} but the quote says ${[...levels].join(' and ')}`);
  }
  return problems;
}
