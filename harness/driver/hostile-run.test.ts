// Whole scenario runs against a hostile driver (docs/HOSTILE.md, "A whole run"): the reference
// candidate behind a proxy that breaks some of its driver's answers. Every scenario the broken
// driver touches ends ERROR with the HRN_ERR_DRIVER_* code of what it did, never FAIL; the others
// still pass; the report is written, signed and verifies; and a run whose driver breaks before
// the first scenario lets go of everything it started.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Behaviour } from '../../fixtures/candidates/hostile/driver-behaviours.ts';
import {
  expected,
  behaviour as hostileBehaviour,
} from '../../fixtures/candidates/hostile/driver-behaviours.ts';
import type {
  Decision,
  HostileDriver,
  HostileRequest,
} from '../../fixtures/candidates/hostile/driver-server.ts';
import { startHostileDriver } from '../../fixtures/candidates/hostile/driver-server.ts';
import { ReferenceCandidate } from '../../fixtures/candidates/reference/driver.ts';
import receiveText from '../../suites/msg/text/MSG-TEXT-001.receive-text.scenario.ts';
import sendText from '../../suites/msg/text/MSG-TEXT-002.send-text.scenario.ts';
import { signRun, verifyRun } from '../report/sign.ts';
import { summarise } from '../report/summary.ts';
import type { RunMeta } from '../report/write.ts';
import { writeRun } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { AnyScenario } from '../scenario/define.ts';
import { variantsOf } from '../scenario/define.ts';
import { openEnvironment } from '../scenario/environment.ts';
import type { ScenarioResult } from '../scenario/runner.ts';
import { runScenario } from '../scenario/runner.ts';
import { createHttpDriver } from './client.ts';
import { DRIVER_CONTRACT_VERSION } from './contract.ts';
import { DriverError } from './errors.ts';
import type { DriverServer } from './serve.ts';
import { serveDriver } from './serve.ts';

const PROFILE = 'signal-x3dh';
const SCENARIOS: readonly AnyScenario[] = [receiveText, sendText];

let upstream: DriverServer;
let home: string;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  upstream = await serveDriver(new ReferenceCandidate({ profile: PROFILE }));
  home = mkdtempSync(join(tmpdir(), 'hostile-run-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A proxy in front of the reference candidate's driver that breaks what `plan` says. */
async function hostileProxy(plan: (req: HostileRequest) => Behaviour | undefined): Promise<HostileDriver> {
  const proxy = await startHostileDriver({
    upstream: upstream.url,
    decide: (req): Decision => plan(req) ?? { kind: 'forward' },
  });
  cleanups.push(() => proxy.close());
  return proxy;
}

/**
 * What `interop-cert run` does for one profile: one environment, every scenario and variant.
 * `opened` runs once the candidate is connected, before the first scenario.
 */
async function runAll(url: string, opened: () => void = () => {}): Promise<ScenarioResult[]> {
  // Short limits keep a hang to a second or two; the rules are those of a real run.
  const driver = createHttpDriver(url, { timeoutMs: 3_000, longPollSlackMs: 1_000, retryDelayMs: 10 });
  cleanups.push(() => driver.close());
  const env = await openEnvironment({ driver, seed: 'hostile-run' });
  opened();
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS)
      for (const [name, variant] of variantsOf(scenario))
        results.push(await runScenario(scenario, name, variant, env));
  } finally {
    await env.close();
  }
  return results;
}

/** Writes, signs and verifies the report of `results`; returns the directory. */
function report(results: readonly ScenarioResult[]): string {
  const dir = mkdtempSync(join(home, 'run-'));
  const catalogue = loadCatalogue();
  const meta: RunMeta = {
    harnessVersion: '0.0.0-test',
    contractVersion: DRIVER_CONTRACT_VERSION,
    candidate: [{ name: 'Hostile Chat', version: '6.6.6', profile: PROFILE }],
    seed: 'hostile-run',
    node: process.version,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    partial: false,
  };
  writeRun(dir, { results, summary: summarise(results, catalogue, [PROFILE]), meta, catalogue });
  signRun(dir, { env: { INTEROP_CERT_HOME: home } });
  const verified = verifyRun(dir);
  expect(verified.problems).toEqual([]);
  expect(verified.ok).toBe(true);
  return dir;
}

/** Outcomes by scenario id, e.g. `{ 'MSG-TEXT-001': ['PASS'], ... }`: one entry per variant. */
function outcomes(rs: readonly ScenarioResult[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of rs) out[r.id] = [...(out[r.id] ?? []), r.outcome];
  return out;
}

const variants = (s: AnyScenario) => [...variantsOf(s)].length;
const all = (outcome: string, s: AnyScenario) => Array(variants(s)).fill(outcome);

describe('a whole run against a hostile driver', () => {
  it('a driver that answers every send with broken JSON: those runs ERROR, the rest pass, the report signs', async () => {
    const proxy = await hostileProxy((req) =>
      req.endpoint === 'send' ? { kind: 'malformed-json', status: 200, text: '{"id":' } : undefined,
    );
    const results = await runAll(proxy.url);
    expect(outcomes(results)).toEqual({
      'MSG-TEXT-001': all('PASS', receiveText),
      'MSG-TEXT-002': all('ERROR', sendText),
    });
    for (const r of results.filter((x) => x.outcome === 'ERROR')) {
      expect(r.reason).toMatch(/^HRN_ERR_DRIVER_BAD_JSON: POST \/v1\/send: the answer is not JSON/);
      expect(r.findings).toEqual([]);
    }
    const dir = report(results);
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string }).outcome)).toEqual(
      results.map((r) => r.outcome),
    );
    const written = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      certification: { certified: boolean; reasons: string[] };
    };
    expect(written.certification.certified).toBe(false);
    expect(written.certification.reasons.join(' ')).toContain(
      `${variants(sendText)} scenario run(s) ended in ERROR`,
    );
  });

  it('a driver whose event long-poll hangs: every run that waits on an event ERRORs with the timeout', async () => {
    let hang = false;
    // Once the candidate is connected, every poll hangs for good.
    const proxy = await hostileProxy((req) =>
      req.endpoint === 'events' && hang ? { kind: 'stall', at: 'before-answer' } : undefined,
    );
    const t0 = performance.now();
    const results = await runAll(proxy.url, () => {
      hang = true;
    });
    expect(results.map((r) => r.outcome).filter((o) => o !== 'ERROR')).toEqual([]);
    for (const r of results)
      expect(r.reason).toMatch(/^HRN_ERR_DRIVER_TIMEOUT: GET \/v1\/events: no answer within/);
    // One poll's limit (250 ms wait + 1 s slack), not a scenario's 20 s, bounds the whole run.
    expect(performance.now() - t0).toBeLessThan(15_000);
    report(results);
  });

  it('a driver that answers each send with a generated hostile answer: ERROR with the owed code, never FAIL', async () => {
    const kinds = [
      'malformed-json',
      'not-utf8',
      'not-strict',
      'wrong-shape',
      'huge-headers',
      'cut',
      'error-status',
      'not-http',
    ] as const;
    const draws = fc.sample(hostileBehaviour(kinds), { seed: 20_260_806, numRuns: variants(sendText) });
    let sends = 0;
    const proxy = await hostileProxy((req) =>
      req.endpoint === 'send' ? draws[sends++ % draws.length] : undefined,
    );
    const results = await runAll(proxy.url);
    expect(outcomes(results)).toEqual({
      'MSG-TEXT-001': all('PASS', receiveText),
      'MSG-TEXT-002': all('ERROR', sendText),
    });
    results
      .filter((r) => r.id === 'MSG-TEXT-002')
      .forEach((r, i) => {
        const b = draws[i % draws.length] as Behaviour;
        const code = expected({ endpoint: 'send', after: 0, behaviour: b }).code;
        expect(r.reason?.startsWith(`${code}: POST /v1/send: `), `${r.reason} for ${JSON.stringify(b)}`).toBe(
          true,
        );
      });
    report(results);
  });

  it('a driver that breaks at connect: a coded error, and the run lets go of its server and event poller', async () => {
    const proxy = await hostileProxy((req) =>
      req.endpoint === 'connect'
        ? { kind: 'error-status', status: 502, body: 'not-error', seed: 1 }
        : undefined,
    );
    const failure = await runAll(proxy.url).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DriverError);
    expect((failure as DriverError).message).toMatch(
      /^HRN_ERR_DRIVER_HTTP_STATUS: POST \/v1\/connect: HTTP 502/,
    );
    const polls = () => proxy.requests.filter((r) => r.endpoint === 'events').length;
    const before = polls();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(polls(), 'the event poller kept polling after the run gave up').toBe(before);
  });
});
