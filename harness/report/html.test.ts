import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../requirements/load.ts';
import { writeAllureResults } from './allure.ts';
import { findJava, generateHtmlReport, neutraliseExternal, REPORT_CSP } from './html.ts';

const root = mkdtempSync(join(tmpdir(), 'html-report-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Addresses the page would fetch: src/href/data attributes of tags, outside data: payloads. */
function externalRefs(html: string): string[] {
  return [
    ...html.matchAll(/<[a-z]+\b[^>]*?\s(?:src|href|data)\s*=\s*["']?((?:https?:)?\/\/[^"'\s>]+)/gi),
  ].map((m) => m[1] ?? '');
}

describe('neutraliseExternal', () => {
  const page = [
    '<!DOCTYPE html><html><head>',
    '<meta charset="utf-8"><title>Allure Report</title>',
    '<link rel="icon" href="data:image/x-icon;base64,AAAA">',
    '<link rel="stylesheet" href="https://fonts.example.com/font.css">',
    '<link rel="preconnect" href="//cdn.example.com">',
    '</head><body>',
    '<script src="data:text/javascript;base64,KGZ1bmN0aW9uKCl7fSkoKQ=="></script>',
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>',
    "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date());</script>",
    "<script>window.reportData = {}; d('data/x.json','e30=');</script>",
    '<img src="http://tracker.example.com/p.gif">',
    '<a href="https://example.com/spec">the spec</a>',
    '</body></html>',
  ].join('\n');

  it('removes what would be fetched and keeps what the file holds', () => {
    const { html, removed } = neutraliseExternal(
      page,
      'interop-cert: NOT CERTIFIED (1/2 MUST requirements passed)',
    );
    expect(removed).toEqual([
      'script https://www.googletagmanager.com/gtag/js?id=G-X',
      'inline analytics script',
      'link https://fonts.example.com/font.css',
      'link //cdn.example.com',
      'img http://tracker.example.com/p.gif',
    ]);
    expect(externalRefs(html)).toEqual(['https://example.com/spec']); // a link a reader may follow
    expect(html).toContain('data:text/javascript;base64,KGZ1bmN0aW9uKCl7fSkoKQ==');
    expect(html).toContain("d('data/x.json','e30=')");
    expect(html).toContain('href="data:image/x-icon;base64,AAAA"');
    expect(html).toContain('<title>interop-cert: NOT CERTIFIED (1/2 MUST requirements passed)</title>');
  });

  it('declares a policy that allows only data: and blob: resources, before any script', () => {
    const { html } = neutraliseExternal(page);
    const csp = html.indexOf('http-equiv="Content-Security-Policy"');
    expect(csp).toBeGreaterThan(0);
    expect(csp).toBeLessThan(html.indexOf('<script'));
    expect(REPORT_CSP).toMatch(/^default-src 'none'/);
    expect(REPORT_CSP).not.toMatch(/https?:|\*|'self'/);
    // Post-processing twice leaves one policy.
    const twice = neutraliseExternal(html).html;
    expect(twice.match(/Content-Security-Policy/g)).toHaveLength(1);
  });
});

describe('findJava', () => {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'java'), '#!/bin/sh\n');
  chmodSync(join(bin, 'java'), 0o755);

  it('looks in JAVA_HOME first, then on PATH', () => {
    expect(findJava({ PATH: `/nonexistent:${bin}` })).toBe(join(bin, 'java'));
    expect(findJava({ PATH: '' })).toBeUndefined();
    expect(findJava({ JAVA_HOME: root, PATH: '' })).toBe(join(bin, 'java'));
    // The allure launcher does not fall back to PATH when JAVA_HOME is wrong; neither do we.
    expect(findJava({ JAVA_HOME: join(root, 'nope'), PATH: bin })).toBeUndefined();
  });
});

describe('generateHtmlReport', () => {
  const catalogue = loadCatalogue();
  const dir = join(root, 'run');
  writeAllureResults(dir, {
    results: [
      {
        id: 'PRIV-CANARY-001',
        variant: 'text',
        profile: 'signal-pqxdh',
        outcome: 'FAIL',
        level: 'MUST',
        requirements: ['REQ-PRIV-001'],
        findings: [
          {
            level: 'MUST',
            code: 'VIO_PRIV_PLAINTEXT_LEAK',
            requirement: 'REQ-PRIV-001',
            step: 's',
            message: 'leak',
          },
        ],
        steps: [],
        notes: [],
        durationMs: 5,
        evidence: { transcript: [], events: [] },
      },
    ],
    summary: {
      profiles: ['signal-pqxdh'],
      certification: { certified: false, reasons: ['x'], mustTotal: 2, mustPassed: 1 },
    },
    meta: {
      harnessVersion: '0.0.0',
      contractVersion: '1.0',
      candidate: [],
      seed: 's',
      node: 'v20',
      startedAt: '2030-01-01T00:00:00.000Z',
      partial: false,
    },
    catalogue,
  });

  it('without Java, says so in one line, does not throw, and leaves no report of an earlier run', async () => {
    writeFileSync(join(dir, 'report.html'), 'an earlier run');
    const r = await generateHtmlReport(dir, { env: { PATH: '' } });
    expect(r).toEqual({ ok: false, reason: 'Java not found: allure-results/ written, report.html skipped' });
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('when allure fails, gives its last line', async () => {
    const home = join(root, 'broken-java');
    mkdirSync(join(home, 'bin'), { recursive: true });
    writeFileSync(join(home, 'bin', 'java'), '#!/bin/sh\necho "Error: no JVM here" >&2\nexit 3\n');
    chmodSync(join(home, 'bin', 'java'), 0o755);
    const r = await generateHtmlReport(dir, { env: { ...process.env, JAVA_HOME: home } });
    expect(r).toEqual({
      ok: false,
      reason: 'allure generate failed (exit 3): Error: no JVM here; report.html skipped',
    });
    expect(readdirSync(dir)).toEqual(['allure-results']);
  });

  it('without allure-results, says so', async () => {
    const r = await generateHtmlReport(join(root, 'empty'));
    expect(r.ok).toBe(false);
  });

  it.skipIf(!findJava())(
    'with Java, writes one self-contained report.html',
    { timeout: 120_000 },
    async () => {
      const r = await generateHtmlReport(dir);
      if (!r.ok) throw new Error(r.reason);
      expect(r.path).toBe(join(dir, 'report.html'));
      const html = readFileSync(r.path, 'utf8');
      expect(html.length).toBe(r.bytes);
      expect(html).toContain('<title>interop-cert: NOT CERTIFIED (1/2 MUST requirements passed)</title>');
      expect(html).toContain('http-equiv="Content-Security-Policy"');
      expect(externalRefs(html)).toEqual([]);
      expect(html).not.toMatch(/googletagmanager|gtag\(/);
      // The staging directory is gone: the run directory holds only what the report is made of.
      expect(readdirSync(dir).sort()).toEqual(['allure-results', 'report.html']);
    },
  );
});
