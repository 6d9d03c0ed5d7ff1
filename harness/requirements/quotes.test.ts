import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './load.ts';
import {
  keywordLevel,
  keywordsOf,
  loadProfile,
  locateQuote,
  normaliseProse,
  PROFILE_DOCUMENT_ID,
  parseProfile,
  profileRequirements,
  quoteProblems,
  sectionCovers,
} from './quotes.ts';
import type { Requirement } from './types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('normaliseProse', () => {
  it('collapses whitespace and takes away emphasis, code spans and links', () => {
    expect(normaliseProse('A  client\n  **MUST** send `<login>` _first_,\tsee [§5.2](#login).')).toBe(
      'A client MUST send <login> first, see §5.2.',
    );
  });

  it('keeps underscores inside names and the text of code spans', () => {
    expect(normaliseProse('_Basis:_ `media_conn` and `__proto__`, e_skey_sig')).toBe(
      'Basis: media_conn and __proto__, e_skey_sig',
    );
  });

  it('takes away table pipes, separator rows and list markers', () => {
    const table = '| a | b |\n| --- | :-: |\n| `x` \\| `y` | z |\n\n1. one\n- two';
    expect(normaliseProse(table)).toBe('a b x | y z one two');
  });

  it('ignores the harness-profile marker and source tags', () => {
    expect(
      normaliseProse('at least 30 [WM] [BL]. A timeout of 20 s **(harness profile: the deadline)**.'),
    ).toBe('at least 30. A timeout of 20 s.');
    expect(normaliseProse('MUST upload its keys **(harness profile)**.')).toBe('MUST upload its keys.');
  });
});

describe('parseProfile and locateQuote', () => {
  const md = [
    '# Title',
    'Intro prose MUST be ignored.',
    '## §1 Scope',
    'A client MUST be polite.',
    '### §1.1 Details',
    'A client SHOULD wave,',
    'and MAY smile.',
    '```xml',
    '<!-- A client MUST NOT be quoted from an example -->',
    '```',
    '## §2 Transport',
    '| rule | value |',
    '| ---- | ----- |',
    '| frames | a client MUST send **text** frames |',
  ].join('\n');
  const sections = parseProfile(md);

  it('splits at numbered headings and leaves out code blocks', () => {
    expect(sections.map((s) => [s.name, s.number, s.line])).toEqual([
      ['§1 Scope', '1', 3],
      ['§1.1 Details', '1.1', 5],
      ['§2 Transport', '2', 11],
    ]);
    expect(sections[1]?.text).toBe('A client SHOULD wave, and MAY smile.');
  });

  it('finds a quote across lines and in tables, whole words only', () => {
    expect(locateQuote(sections, 'SHOULD wave, and MAY smile.').map((s) => s.name)).toEqual(['§1.1 Details']);
    expect(locateQuote(sections, 'a client MUST send text frames').map((s) => s.name)).toEqual([
      '§2 Transport',
    ]);
    expect(locateQuote(sections, 'client MUST be polit')).toEqual([]);
    expect(locateQuote(sections, 'A client MUST NOT be quoted from an example')).toEqual([]);
    expect(locateQuote(sections, 'Intro prose MUST be ignored.')).toEqual([]);
  });

  it('accepts the section itself or an ancestor as the citation', () => {
    const [scope, details, transport] = sections;
    if (scope === undefined || details === undefined || transport === undefined) throw new Error('parse');
    expect(sectionCovers('§1.1 Details', details)).toBe(true);
    expect(sectionCovers('§1 Scope', details)).toBe(true);
    expect(sectionCovers('§1.1 Details', scope)).toBe(false);
    expect(sectionCovers('§1 Scope', transport)).toBe(false);
    expect(sectionCovers('§1', { ...details, number: '11' })).toBe(false);
  });

  it('checks a requirement: verbatim, in its section, at its level', () => {
    const base = {
      id: 'REQ-E2EE-001',
      title: 'test',
      rule: 'test',
      area: 'E2EE',
      profiles: ['signal-x3dh'],
      bugClass: 'FUNCTIONALITY',
    } as const;
    const req = (level: Requirement['level'], quote: string, section: string): Requirement => ({
      ...base,
      level,
      quote,
      source: { document: 'PROFILE', section },
    });
    expect(quoteProblems(req('MUST', 'A client MUST be polite.', '§1 Scope'), sections)).toEqual([]);
    expect(
      quoteProblems(req('SHOULD', 'A client SHOULD wave, and MAY smile.', '§1 Scope'), sections),
    ).toEqual([]);
    expect(quoteProblems(req('MUST', 'A client MUST be nice.', '§1 Scope'), sections)).toEqual([
      'REQ-E2EE-001: quote is not verbatim in the profile',
    ]);
    expect(quoteProblems(req('MUST', 'A client MUST be polite.', '§2 Transport'), sections)).toEqual([
      'REQ-E2EE-001: quote is in "§1 Scope", not in the cited "§2 Transport"',
    ]);
    expect(quoteProblems(req('MAY', 'A client MUST be polite.', '§1 Scope'), sections)).toEqual([
      'REQ-E2EE-001: level MAY but the quote says MUST',
    ]);
    expect(quoteProblems(req('MUST', 'A client SHOULD wave, and MAY smile.', '§1.1'), sections)).toEqual([
      'REQ-E2EE-001: level MUST but the quote says SHOULD and MAY',
    ]);
  });
});

describe('BCP 14 keywords', () => {
  it('reads capitals only, the longest form first', () => {
    expect(keywordsOf('It MUST NOT, SHOULD NOT, must not, MAY; NOT RECOMMENDED and REQUIRED.')).toEqual([
      'MUST NOT',
      'SHOULD NOT',
      'MAY',
      'NOT RECOMMENDED',
      'REQUIRED',
    ]);
  });

  it('maps each keyword to a level', () => {
    expect(['MUST', 'MUST NOT', 'REQUIRED', 'SHALL', 'SHALL NOT'].map(keywordLevel)).toEqual(
      Array(5).fill('MUST'),
    );
    expect(['SHOULD', 'SHOULD NOT', 'RECOMMENDED', 'NOT RECOMMENDED'].map(keywordLevel)).toEqual(
      Array(4).fill('SHOULD'),
    );
    expect(['MAY', 'OPTIONAL'].map(keywordLevel)).toEqual(['MAY', 'MAY']);
  });
});

describe('the catalogue quotes the profile verbatim', () => {
  const catalogue = loadCatalogue();
  const sections = loadProfile();
  const cited = profileRequirements(catalogue);

  it('lists exactly the profile headings as the citable sections', () => {
    const listed = catalogue.documentById(PROFILE_DOCUMENT_ID)?.sections;
    expect(listed).toEqual(sections.map((s) => s.name));
  });

  it('has requirements that cite the profile', () => {
    expect(cited.length).toBeGreaterThan(50);
  });

  it('finds every quote in the cited section, at the level its keywords give', () => {
    expect(cited.flatMap((r) => quoteProblems(r, sections))).toEqual([]);
  });

  it('gives each requirement its own quote of the profile', () => {
    const byQuote = new Map<string, string[]>();
    for (const r of cited) {
      const q = normaliseProse(r.quote);
      byQuote.set(q, [...(byQuote.get(q) ?? []), r.id]);
    }
    expect([...byQuote.values()].filter((ids) => ids.length > 1)).toEqual([]);
  });

  it('names only profile sections that exist in notes', () => {
    const numbers = new Set(sections.map((s) => s.number));
    const missing: string[] = [];
    for (const r of catalogue.requirements) {
      for (const m of (r.source.note ?? '').matchAll(/profile §(\d+(?:\.\d+)*)/g)) {
        if (!numbers.has(m[1] ?? '')) missing.push(`${r.id}: §${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('finds every document that lives in the repository', () => {
    const local = catalogue.documents.filter((d) => d.url !== undefined && !d.url.startsWith('https://'));
    expect(local.map((d) => d.id)).toContain(PROFILE_DOCUMENT_ID);
    for (const d of local) expect(existsSync(join(ROOT, d.url ?? '')), d.id).toBe(true);
  });
});
