import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../requirements/load.ts';
import { main } from './main.ts';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'interop-cert', ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('interop-cert list and explain', () => {
  it('lists every live requirement, as text and as JSON', async () => {
    const live = loadCatalogue().requirements.filter((r) => !r.retired);
    const text = await run('list', 'requirements');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`${live.length} requirements`);
    const json = await run('list', 'requirements', '--json');
    const rows = JSON.parse(json.out) as { id: string }[];
    expect(rows.map((r) => r.id)).toEqual(live.map((r) => r.id));
  });

  it('explains a requirement with its quote and source', async () => {
    const req = loadCatalogue().requirements.find((r) => r.source.document === 'PROFILE');
    const r = await run('explain', req?.id ?? '');
    expect(r.code).toBe(0);
    expect(r.out).toContain(req?.quote ?? '?');
    expect(r.out).toContain(req?.source.section ?? '?');
  });

  it('refuses an unknown id and an unknown list with exit 2', async () => {
    expect((await run('explain', 'REQ-NOPE-001')).code).toBe(2);
    expect((await run('list', 'widgets')).code).toBe(2);
  });
});
