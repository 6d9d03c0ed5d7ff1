import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';

function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(['node', 'interop-cert', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return code.then((c) => ({ code: c, out: out.join('\n'), err: err.join('\n') }));
}

const dir = mkdtempSync(join(tmpdir(), 'validate-'));
const good = join(dir, 'ping.xml');
const bad = join(dir, 'bad.xml');
writeFileSync(good, '<iq id="p1" xmlns="w:p" type="get" to="s.whatsapp.net"><ping/></iq>\n');
writeFileSync(bad, '<!DOCTYPE x><iq/>');
mkdirSync(join(dir, 'nested'));
writeFileSync(
  join(dir, 'nested', 'ack.xml'),
  '<ack class="message" id="3EB0C4F7A1D2E3F4A5B6C7" t="1718000000"/>',
);

describe('interop-cert validate', () => {
  it('exits 0 when every file is valid and names each kind', async () => {
    const r = await run('validate', good);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`VALID   ${good} (iq.ping, c2s)`);
  });

  it('exits 1 and prints the code of an invalid file', async () => {
    const r = await run('validate', good, bad);
    expect(r.code).toBe(1);
    expect(r.out).toContain('VIO_XML_DOCTYPE');
    expect(r.out).toContain('1 valid, 1 invalid');
  });

  it('searches directories and prints JSON for machines', async () => {
    const r = await run('validate', '--json', dir);
    const doc = JSON.parse(r.out) as {
      files: { file: string; valid: boolean; violations: { code: string }[] }[];
    };
    expect(doc.files.map((f) => f.file.slice(dir.length + 1))).toEqual([
      'bad.xml',
      'nested/ack.xml',
      'ping.xml',
    ]);
    expect(doc.files[0]?.violations.map((v) => v.code)).toEqual(['VIO_XML_DOCTYPE']);
    expect(r.code).toBe(1);
  });

  it('checks against a forced direction', async () => {
    const r = await run('validate', '--direction', 's2c', good);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/VIO_SCHEMA_\w+ \/iq@/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run('validate', join(dir, 'missing.xml'))).code).toBe(2);
    expect((await run('validate', '--direction', 'up', good)).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
  });
});
