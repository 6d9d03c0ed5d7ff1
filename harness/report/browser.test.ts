// The HTML report in a real browser (issue 7, section 4): a run of the reference candidate with
// a fault, its Allure results and single-file report, opened from file:// in Debian's headless
// Chromium with every non-local request aborted and recorded. The reader must see the verdict,
// a failing requirement and its wire excerpt, and the page must fetch nothing from the network.
//
// Without /usr/bin/chromium or Java the test skips and says why, unless
// INTEROP_BROWSER_TEST=required (CI), where a missing browser or Java is a failure.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ReferenceCandidate } from '../../fixtures/candidates/reference/driver.ts';
import { parseFaults } from '../../fixtures/candidates/reference/faults.ts';
import { DRIVER_CONTRACT_VERSION } from '../driver/contract.ts';
import { inProcessDriver } from '../driver/in-process.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import { openEnvironment } from '../scenario/environment.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import { runScenario } from '../scenario/runner.ts';
import { writeAllureResults } from './allure.ts';
import { findJava, generateHtmlReport } from './html.ts';
import { summarise } from './summary.ts';

const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env.INTEROP_BROWSER_TEST === 'required';
const PROFILE: CryptoProfileId = 'signal-pqxdh';
const FAULT = 'plaintext-body';
// Fast scenarios: PRIV-CANARY-002 fails under the fault (its content goes out in the clear);
// the others pass, so the report holds both.
const SCENARIOS = new Set(['PRIV-CANARY-002', 'MSG-TEXT-001', 'KEYS-UPLOAD-001', 'SESSION-LOGIN-001']);
const WIRE_ATTACHMENT = 'wire excerpt (transcript JSONL)';
const UI_TIMEOUT_MS = 15_000;

function missing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (Debian package chromium)`;
  if (!findJava()) return 'Java not found (allure generate needs it)';
  return undefined;
}

async function makeRun(dir: string): Promise<ScenarioResult[]> {
  const scenarios = (await loadScenarios()).filter((s) => SCENARIOS.has(s.scenario.id));
  const driver = inProcessDriver(
    new ReferenceCandidate({ profile: PROFILE, faults: parseFaults([FAULT], PROFILE) }),
  );
  const manifest = await driver.manifest();
  const startedAt = new Date().toISOString();
  // The scenarios run as the run command runs them, one environment for all, without its
  // command line and files: this test is about the report, not about how a run is driven.
  const results: ScenarioResult[] = [];
  const env = await openEnvironment({ driver, seed: 'browser-test' });
  try {
    for (const { scenario } of scenarios) {
      for (const [name, variant] of variantsOf(scenario))
        results.push(await runScenario(scenario, name, variant, env));
    }
  } finally {
    await env.close();
  }
  const catalogue = loadCatalogue();
  const summary = summarise(results, catalogue, [PROFILE]);
  const meta = {
    harnessVersion: '0.0.0-test',
    contractVersion: DRIVER_CONTRACT_VERSION,
    candidate: [{ name: manifest.name, version: manifest.version, profile: PROFILE }],
    seed: 'browser-test',
    faults: [FAULT],
    node: process.version,
    startedAt,
    finishedAt: new Date().toISOString(),
    partial: false,
  };
  // Only what the HTML report is built from: the run's other files (writeRun) have tests of
  // their own, and this test must not fail on their formats.
  writeAllureResults(dir, { results, summary, meta, catalogue });
  return results;
}

/** Every request that is not file: or data: (or a blob: the page made itself) is aborted and kept. */
async function guard(context: BrowserContext): Promise<{ external: string[]; cspViolations: string[] }> {
  const external: string[] = [];
  const cspViolations: string[] = [];
  const local = (url: string) => /^(file|data|blob):/i.test(url);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (local(url)) return route.continue();
    external.push(url);
    return route.abort('blockedbyclient');
  });
  // Requests that bypass routing (a service worker, a preload) still show here.
  context.on('request', (request) => {
    const url = request.url();
    if (!local(url) && !external.includes(url)) external.push(url);
  });
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { external, cspViolations };
}

async function visibleText(page: Page, text: string | RegExp): Promise<void> {
  await page.getByText(text).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
}

describe('the HTML report in a browser', () => {
  it('shows the verdict, a failing requirement and its wire excerpt, and fetches nothing', {
    timeout: 90_000,
  }, async (ctx) => {
    const why = missing();
    if (why) {
      if (REQUIRED) throw new Error(`INTEROP_BROWSER_TEST=required, but ${why}`);
      const note = `${why}; INTEROP_BROWSER_TEST=required makes this a failure`;
      // The default reporter shows a skip without its note: say it where a reader looks.
      console.warn(`browser report test skipped: ${note}`);
      ctx.skip(note);
    }
    const root = mkdtempSync(join(tmpdir(), 'interop-browser-'));
    const dir = join(root, 'run');
    let context: BrowserContext | undefined;
    try {
      const results = await makeRun(dir);
      const failing = results.find((r) => r.outcome === 'FAIL' && r.findings.length > 0);
      expect(failing, 'the fault makes at least one scenario fail').toBeDefined();
      expect(results.some((r) => r.outcome === 'PASS')).toBe(true);

      const report = await generateHtmlReport(dir);
      if (!report.ok) throw new Error(report.reason);

      context = await chromium.launchPersistentContext(join(root, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 1000 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          // Should anything get past the route guard, no name resolves.
          '--host-resolver-rules=MAP * ~NOTFOUND',
        ],
      });
      const { external, cspViolations } = await guard(context);
      const page = context.pages()[0] ?? (await context.newPage());
      try {
        await page.goto(`file://${report.path}`);

        // Overview: the verdict is the report's name.
        await visibleText(page, /interop-cert: NOT CERTIFIED \(\d+\/\d+ MUST requirements passed\)/);
        expect(await page.title()).toMatch(/^interop-cert: NOT CERTIFIED/);

        // Overview -> the failure's category -> its message group -> the first failed test.
        await page.locator('.side-nav__link[data-tab="categories"]').click();
        const tree = page.locator('allure-tree-view');
        await tree.locator('.node__title', { hasText: 'MUST violations' }).first().click();
        await tree.locator('.node__children .node__title').first().click();
        const leaf = tree.locator('a.node__leaf').first();
        const name = ((await leaf.locator('.node__name').textContent()) ?? '').trim();
        await leaf.click();
        const shown = results.find((r) => `${r.id} ${r.variant} (${r.profile})` === name);
        expect(shown, `the test "${name}" is a run of this report`).toBeDefined();
        if (!shown) return;
        expect(shown.outcome).toBe('FAIL');

        // Its failing requirement, with the code and the requirement's title.
        const finding = shown.findings.find((f) => f.level === 'MUST');
        expect(finding).toBeDefined();
        if (!finding) return;
        await visibleText(page, new RegExp(`${finding.code} ${finding.requirement}\\b`));
        const title = loadCatalogue().byId(finding.requirement)?.title ?? finding.requirement;
        await visibleText(page, `${finding.requirement} (MUST): ${title}`);

        // Its wire excerpt: the attachment opens on the transcript of this run.
        await page.getByText(WIRE_ATTACHMENT).first().click();
        const first = shown.evidence.transcript[0];
        expect(first, 'the failing run has a transcript').toBeDefined();
        await visibleText(page, `"kind":"frame","seq":${first?.seq},`);

        expect(cspViolations, 'the report tried to load something').toEqual([]);
        expect(external, 'requests that left file://').toEqual([]);

        // The policy in the file holds in a real browser: a fetch is refused before the network.
        const probe = await page.evaluate(() =>
          fetch('https://example.com/').then(
            () => 'fetched',
            () => 'refused',
          ),
        );
        expect(probe).toBe('refused');
        expect(external).toEqual([]);
      } catch (e) {
        const shot = join(tmpdir(), `interop-browser-failure-${process.pid}.png`);
        await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
        throw new Error(`${(e as Error).message}\n(screenshot: ${shot})`, { cause: e });
      }
    } finally {
      await context?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
