import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HarnessError } from '../codes.ts';
import {
  AREAS,
  BUG_CLASSES,
  CATALOGUE_INVALID,
  CATALOGUE_SCHEMA_PATH,
  CatalogueError,
  CRYPTO_PROFILES,
  DIRECTIONS,
  FEATURES,
  loadCatalogue,
  REQUIREMENT_LEVELS,
} from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeCatalogue(data: unknown): string {
  const path = join(dir, `catalogue-${++fileCount}.yml`);
  writeFileSync(path, typeof data === 'string' ? data : stringify(data));
  return path;
}

function requirement(id: string, area: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    level: 'MUST',
    title: 'A test requirement',
    rule: 'The candidate does the thing.',
    quote: 'A client MUST do the thing.',
    source: { document: 'PROFILE', section: '§1 Scope' },
    area,
    profiles: ['signal-pqxdh', 'signal-x3dh'],
    bugClass: 'FUNCTIONALITY',
    ...overrides,
  };
}

function smallCatalogue() {
  return {
    version: 1,
    documents: [
      { id: 'PROFILE', title: 'Profile', url: 'docs/PROFILE.md', sections: ['§1 Scope', '§2 Transport'] },
      { id: 'SIGNAL-DR', title: 'The Double Ratchet Algorithm', url: 'https://signal.org/docs/' },
    ],
    requirements: [
      requirement('REQ-E2EE-001', 'E2EE', { source: { document: 'SIGNAL-DR', section: '3.5' } }),
      requirement('REQ-E2EE-002', 'E2EE'),
      requirement('REQ-MSG-001', 'MSG'),
    ],
  };
}

/** Loads a catalogue that must be refused and returns the error. */
function refusal(data: unknown): CatalogueError {
  const path = writeCatalogue(data);
  try {
    loadCatalogue(path);
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogueError);
    expect(err).toBeInstanceOf(HarnessError);
    const e = err as CatalogueError;
    expect(e.code).toBe(CATALOGUE_INVALID);
    expect(e.message.startsWith(`${CATALOGUE_INVALID}:`)).toBe(true);
    for (const p of e.problems) expect(e.message).toContain(`${CATALOGUE_INVALID} ${p}`);
    return e;
  }
  throw new Error(`catalogue ${path} was accepted`);
}

describe('the repository catalogue', () => {
  const catalogue = loadCatalogue();
  const live = catalogue.requirements.filter((r) => r.retired !== true);

  it('loads once and is cached', () => {
    expect(loadCatalogue()).toBe(catalogue);
    expect(catalogue.path.endsWith('suites/requirements.yml')).toBe(true);
  });

  it('holds at least 120 requirements', () => {
    expect(live.length).toBeGreaterThanOrEqual(120);
  });

  it('has at least 4 requirements in every area, and E2EE, MEDIA and MSG are the largest', () => {
    const counts = new Map(AREAS.map((a) => [a, live.filter((r) => r.area === a).length]));
    for (const [area, n] of counts) expect(n, area).toBeGreaterThanOrEqual(4);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([a]) => a);
    expect(new Set(ranked.slice(0, 3))).toEqual(new Set(['E2EE', 'MEDIA', 'MSG']));
  });

  it('uses every bug class and every level', () => {
    for (const c of BUG_CLASSES)
      expect(
        live.some((r) => r.bugClass === c),
        c,
      ).toBe(true);
    for (const l of REQUIREMENT_LEVELS)
      expect(
        live.some((r) => r.level === l),
        l,
      ).toBe(true);
  });

  it('covers E2EE, MEDIA and MSG for both crypto profiles', () => {
    for (const area of ['E2EE', 'MEDIA', 'MSG'] as const) {
      for (const profile of CRYPTO_PROFILES) {
        const n = live.filter((r) => r.area === area && r.profiles.includes(profile)).length;
        expect(n, `${area} ${profile}`).toBeGreaterThanOrEqual(4);
      }
    }
  });

  it('has version-specific requirements for each profile alone', () => {
    for (const profile of CRYPTO_PROFILES) {
      const only = live.filter((r) => r.profiles.length === 1 && r.profiles[0] === profile);
      expect(only.length, profile).toBeGreaterThanOrEqual(2);
    }
    for (const r of live) {
      if (r.title.includes('(PQXDH)')) expect(r.profiles, r.id).toEqual(['signal-pqxdh']);
      if (r.title.includes('(X3DH)')) expect(r.profiles, r.id).toEqual(['signal-x3dh']);
    }
  });

  it('ties optional features only to what the candidate sends', () => {
    const withFeature = live.filter((r) => r.feature !== undefined);
    expect(new Set(withFeature.map((r) => r.feature))).toEqual(new Set(FEATURES));
    for (const r of withFeature) expect(r.direction, r.id).toBe('candidate-sends');
    // Receiving is never optional.
    for (const r of live.filter((x) => x.direction === 'candidate-receives')) {
      expect(r.feature, r.id).toBeUndefined();
    }
  });

  it('cites every listed document and finds requirements by id', () => {
    const cited = new Set(catalogue.requirements.map((r) => r.source.document));
    const uncited = catalogue.documents.filter((d) => !cited.has(d.id)).map((d) => d.id);
    // The reference offer is the basis of profile rules, named in notes, never quoted.
    expect(uncited).toEqual(['META-OFFER']);
    expect(catalogue.requirements.some((r) => r.source.note?.includes('Meta reference offer'))).toBe(true);
    const first = catalogue.requirements[0];
    expect(first).toBeDefined();
    expect(catalogue.byId(first?.id ?? '')).toBe(first);
    expect(catalogue.byId('REQ-E2EE-999')).toBeUndefined();
    expect(catalogue.documentById('PROFILE')?.url).toBe('docs/PROFILE.md');
  });
});

describe('the schema', () => {
  const schema = JSON.parse(readFileSync(CATALOGUE_SCHEMA_PATH, 'utf8')) as {
    $defs: Record<string, { enum?: unknown[] }>;
  };

  it('has the same enums as the TypeScript types', () => {
    expect(schema.$defs.area?.enum).toEqual([...AREAS]);
    expect(schema.$defs.level?.enum).toEqual([...REQUIREMENT_LEVELS]);
    expect(schema.$defs.bugClass?.enum).toEqual([...BUG_CLASSES]);
    expect(schema.$defs.profile?.enum).toEqual([...CRYPTO_PROFILES]);
    expect(schema.$defs.direction?.enum).toEqual([...DIRECTIONS]);
    expect(schema.$defs.feature?.enum).toEqual([...FEATURES]);
  });
});

describe('refused catalogues', () => {
  it('accepts the small valid catalogue the refusals start from', () => {
    const c = loadCatalogue(writeCatalogue(smallCatalogue()));
    expect(c.requirements.map((r) => r.id)).toEqual(['REQ-E2EE-001', 'REQ-E2EE-002', 'REQ-MSG-001']);
  });

  it('refuses a duplicate id', () => {
    const data = smallCatalogue();
    data.requirements.push(requirement('REQ-E2EE-002', 'E2EE'));
    const e = refusal(data);
    expect(e.problems).toEqual([
      '/requirements/3 (REQ-E2EE-002): duplicate id, first used at /requirements/1',
    ]);
  });

  it('refuses an unknown document', () => {
    const data = smallCatalogue();
    data.requirements[2] = requirement('REQ-MSG-001', 'MSG', { source: { document: 'NOPE', section: '1' } });
    const e = refusal(data);
    expect(e.problems).toEqual(['/requirements/2 (REQ-MSG-001): source.document NOPE is not in documents']);
  });

  it('refuses an id whose area prefix differs from its area', () => {
    const data = smallCatalogue();
    data.requirements[2] = requirement('REQ-MSG-001', 'MEDIA');
    const e = refusal(data);
    expect(e.problems).toEqual(['/requirements/2 (REQ-MSG-001): id names area MSG but area is MEDIA']);
  });

  it('refuses a bad level', () => {
    const data = smallCatalogue();
    data.requirements[1] = requirement('REQ-E2EE-002', 'E2EE', { level: 'SHALL' });
    const e = refusal(data);
    expect(e.problems).toEqual(['/requirements/1/level: must be one of ["MUST","SHOULD","MAY"]']);
  });

  it('refuses a gap in the numbering', () => {
    const data = smallCatalogue();
    data.requirements.push(requirement('REQ-MSG-003', 'MSG'));
    const e = refusal(data);
    expect(e.problems).toEqual(['area MSG: numbering has gaps (REQ-MSG-002 missing); retire ids instead']);
  });

  it('keeps a retired id in the numbering', () => {
    const data = smallCatalogue();
    data.requirements.push(
      requirement('REQ-MSG-002', 'MSG', { retired: true, replacedBy: 'REQ-MSG-003' }),
      requirement('REQ-MSG-003', 'MSG'),
    );
    expect(loadCatalogue(writeCatalogue(data)).byId('REQ-MSG-002')?.retired).toBe(true);
  });

  it('refuses a section a document does not list', () => {
    const data = smallCatalogue();
    data.requirements[1] = requirement('REQ-E2EE-002', 'E2EE', {
      source: { document: 'PROFILE', section: '§7 Nowhere' },
    });
    const e = refusal(data);
    expect(e.problems).toEqual([
      '/requirements/1 (REQ-E2EE-002): section "§7 Nowhere" is not a section of PROFILE',
    ]);
  });

  it('refuses unknown properties, anywhere', () => {
    const data = smallCatalogue();
    (data.requirements[0] as Record<string, unknown>).severity = 'high';
    const e = refusal(data);
    expect(e.problems).toEqual(['/requirements/0: has unknown property "severity"']);
  });

  it('lists every problem at once', () => {
    const data = smallCatalogue();
    data.requirements.push(
      requirement('REQ-E2EE-001', 'E2EE'),
      requirement('REQ-KEYS-001', 'KEYS', { source: { document: 'GONE', section: '1' } }),
    );
    const e = refusal(data);
    expect(e.problems).toHaveLength(2);
    expect(e.problems[0]).toContain('duplicate id');
    expect(e.problems[1]).toContain('GONE is not in documents');
  });

  it('refuses broken YAML and an unreadable file with the same code', () => {
    const broken = refusal('version: 1\ndocuments: [\n');
    expect(broken.problems[0]).toMatch(/^YAML /);
    const dupKey = refusal('version: 1\nversion: 1\ndocuments: []\nrequirements: []\n');
    expect(dupKey.problems[0]).toMatch(/^YAML DUPLICATE_KEY/);
    expect(() => loadCatalogue(join(dir, 'missing.yml'))).toThrow(CATALOGUE_INVALID);
  });
});
