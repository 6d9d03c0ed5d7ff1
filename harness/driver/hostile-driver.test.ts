// The hostile driver campaign (docs/HOSTILE.md): thousands of generated calls against a driver
// that answers malformed, oversized, trickling, stalled, cut, mislabelled and non-HTTP answers,
// interleaved with valid ones on the same keep-alive connections. Each call must end in exactly
// the outcome its behaviour owes (success, or one HRN_ERR_DRIVER_* code naming the endpoint),
// within its time limit, with one logged attempt per request the driver saw, and nothing may
// escape as another kind of error.
//
// HOSTILE_CANDIDATE_CASES sets the size of the whole campaign (this half runs 60% of it),
// HOSTILE_CANDIDATE_SEED its seed, HOSTILE_CANDIDATE_REPLAY=driver:<seed>:<case> one case.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPlan, replayCommand } from '../../fixtures/candidates/hostile/campaign.ts';
import type {
  Behaviour,
  BehaviourKind,
  DriverCase,
  Pool,
} from '../../fixtures/candidates/hostile/driver-behaviours.ts';
import {
  attemptsFor,
  describeCase,
  driverCase,
  expected,
  invoke,
  validAnswer,
} from '../../fixtures/candidates/hostile/driver-behaviours.ts';
import type { HostileDriver } from '../../fixtures/candidates/hostile/driver-server.ts';
import { startHostileDriver } from '../../fixtures/candidates/hostile/driver-server.ts';
import type { HttpDriver, HttpDriverOptions } from './client.ts';
import { createHttpDriver, DEFAULT_IDLE_TIMEOUT_MS } from './client.ts';
import { ENDPOINTS } from './contract.ts';
import { DriverError } from './errors.ts';
import { MAX_JSON_DEPTH, strictJsonProblem } from './strict-json.ts';

const PLAN = campaignPlan('driver');
/** Calls in flight at once, each on its own worker path and drivers. */
const WORKERS = 24;
/** The campaign's answer limit: huge bodies exceed it by up to four times. */
const LIMIT = 64 * 1024;
const RETRIES = 2;
const BASE: HttpDriverOptions = {
  timeoutMs: 5_000,
  endpointTimeoutMs: { connect: 5_000 },
  longPollSlackMs: 5_000,
  maxBodyBytes: LIMIT,
  retries: RETRIES,
  retryDelayMs: 5,
};
/** Per pool: the options, and how long a case may take before it counts as a hang. */
const POOLS: {
  readonly [P in Pool]: {
    readonly options: HttpDriverOptions;
    readonly boundMs: (attempts: number) => number;
  };
} = {
  // Nothing in a fast case waits: answers come at once, right or wrong.
  fast: { options: BASE, boundMs: () => 3_000 },
  // Trickles and answers that stop before their headers end: the call's deadline ends them.
  deadline: {
    options: { ...BASE, timeoutMs: 250, endpointTimeoutMs: { connect: 250 }, longPollSlackMs: 250 },
    boundMs: (n) => n * 250 + 2_000,
  },
  // Answers that stop once their headers came: the idle limit ends them, long before the
  // deadline; undici's body timer ticks every half second, so it fires up to a second late.
  idle: { options: { ...BASE, idleTimeoutMs: 150 }, boundMs: () => 150 + 1_000 + 2_000 },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Worker {
  readonly prefix: string;
  /** The worker's own driver for fast cases: its keep-alive connections carry case after case. */
  readonly fast: HttpDriver;
  current: Behaviour | undefined;
}

interface Campaign {
  readonly server: HostileDriver;
  readonly workers: readonly Worker[];
  /** Behaviours by case number, for the per-case paths of slow cases. */
  readonly cases: Map<number, Behaviour>;
}

const CASE_PATH = /\/c\/(\d+)$/;

async function startCampaign(): Promise<Campaign> {
  const cases = new Map<number, Behaviour>();
  let workers: Worker[] = [];
  const server = await startHostileDriver({
    bodyLimit: LIMIT,
    decide: (req) => {
      const own = CASE_PATH.exec(req.prefix)?.[1];
      const b =
        own === undefined ? workers.find((x) => x.prefix === req.prefix)?.current : cases.get(Number(own));
      // A request of no running case is a stray (a harness bug): answer it with nonsense.
      return b ?? { kind: 'not-http', text: 'stray' };
    },
  });
  cleanups.push(() => server.close());
  workers = Array.from({ length: WORKERS }, (_, i) => {
    const prefix = `/w/${i}`;
    const fast = createHttpDriver(`${server.url}${prefix}`, POOLS.fast.options);
    cleanups.push(() => fast.close());
    return { prefix, fast, current: undefined };
  });
  return { server, workers, cases };
}

/** What went wrong with case `index`, if anything, and the outcome it had. */
async function runCase(
  campaign: Campaign,
  w: Worker,
  index: number,
  c: DriverCase,
  fast: HttpDriver = w.fast,
): Promise<{ problem?: string; outcome: string }> {
  const { server } = campaign;
  const exp = expected(c);
  // A call that times out may reach the driver after the harness gave up on it, so slow cases
  // run on a path of their own, where a late request cannot be taken for another case's.
  const prefix = exp.pool === 'fast' ? w.prefix : `${w.prefix}/c/${index}`;
  const driver =
    exp.pool === 'fast' ? fast : createHttpDriver(`${server.url}${prefix}`, POOLS[exp.pool].options);
  const mine = () => server.requests.filter((r) => r.prefix === prefix).length;
  const seen = mine();
  const mark = driver.log.mark();
  campaign.cases.set(index, c.behaviour);
  w.current = c.behaviour;
  const t0 = performance.now();
  let value: unknown;
  let error: unknown;
  try {
    value = await invoke(driver, c);
  } catch (e) {
    error = e;
  }
  const elapsed = performance.now() - t0;
  w.current = undefined;
  if (driver !== fast) await driver.close();
  const attempts = attemptsFor(c, exp.code, RETRIES);
  const bound = POOLS[exp.pool].boundMs(attempts);
  const { method, path } = ENDPOINTS[c.endpoint];
  const log = driver.log.since(mark);
  const outcome = error instanceof DriverError ? error.code : error === undefined ? 'ok' : 'other';
  const fail = (problem: string) => ({ problem, outcome });
  if (exp.code === 'ok') {
    if (error !== undefined) return fail(`expected success, got ${String(error)}`);
    const want = validAnswer(c.endpoint, c.after, 'seed' in c.behaviour ? c.behaviour.seed : 1);
    if (JSON.stringify(value) !== JSON.stringify(want))
      return fail(
        `expected ${JSON.stringify(want).slice(0, 200)}, got ${JSON.stringify(value).slice(0, 200)}`,
      );
  } else {
    if (!(error instanceof DriverError))
      return fail(`expected ${exp.code}, got ${error === undefined ? 'success' : String(error)}`);
    if (error.code !== exp.code) return fail(`expected ${exp.code}, got ${error.message.slice(0, 300)}`);
    if (!error.message.startsWith(`${exp.code}: ${method} ${path}: `))
      return fail(`the message does not name the endpoint: ${error.message.slice(0, 200)}`);
  }
  if (elapsed > bound) return fail(`took ${Math.round(elapsed)} ms, more than ${bound} ms`);
  // Every attempt reached the driver, and no other request did; a timed-out one may not have
  // got there before the harness gave up, which is not the harness's fault.
  const requests = mine() - seen;
  const timedOut = exp.code === 'HRN_ERR_DRIVER_TIMEOUT';
  if (timedOut ? requests > attempts : requests !== attempts)
    return fail(`the driver saw ${requests} requests, expected ${attempts}`);
  if (log.length !== attempts) return fail(`${log.length} log entries for ${attempts} attempts`);
  const last = log.at(-1);
  if ((last?.error?.code ?? 'ok') !== exp.code)
    return fail(`the log's last entry says ${last?.error?.code ?? 'ok'}`);
  return { outcome };
}

describe('the hostile driver campaign', () => {
  it(
    `${PLAN.cases} generated calls: each ends in its owed outcome, in time, logged, with nothing else thrown`,
    async () => {
      const all = fc.sample(driverCase(), {
        seed: PLAN.seed,
        numRuns: PLAN.replay === undefined ? PLAN.cases : PLAN.replay + 1,
      });
      const indices = PLAN.replay === undefined ? all.map((_, i) => i) : [PLAN.replay];
      const campaign = await startCampaign();
      const { server, workers } = campaign;
      const failures: string[] = [];
      const outcomes = new Map<string, number>();
      const kinds = new Map<string, number>();
      const t0 = performance.now();
      await Promise.all(
        workers.map(async (w, wi) => {
          for (let k = wi; k < indices.length; k += workers.length) {
            const index = indices[k] as number;
            const c = all[index] as DriverCase;
            if (failures.length >= 5) return;
            const r = await runCase(campaign, w, index, c);
            outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
            kinds.set(c.behaviour.kind, (kinds.get(c.behaviour.kind) ?? 0) + 1);
            if (r.problem) {
              failures.push(
                `case ${index} (${w.prefix}): ${r.problem}\n  ${describeCase(c)}\n  reproduce: ${replayCommand('driver', PLAN.seed, index)}`,
              );
            }
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      expect(failures).toEqual([]);
      // Every driver lets go of its connections, whatever state the hostile answers left them in.
      for (const w of workers) await w.fast.close();
      await expect.poll(() => server.connections, { timeout: 2_000, interval: 20 }).toBe(0);
      console.log(
        `hostile driver campaign: ${JSON.stringify({
          seed: PLAN.seed,
          cases: indices.length,
          seconds: Math.round(seconds * 10) / 10,
          requests: server.requests.length,
          outcomes: Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])),
          behaviours: Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])),
          replay: replayCommand('driver', PLAN.seed, 0).replace(':0 ', ':<case> '),
        })}`,
      );
    },
    Math.max(60_000, PLAN.cases * 30),
  );

  it('draws every behaviour, reproducibly: case k is the same whatever the campaign size', () => {
    const big = fc.sample(driverCase(), { seed: PLAN.seed, numRuns: 2_000 });
    const small = fc.sample(driverCase(), { seed: PLAN.seed, numRuns: 300 });
    expect(small).toEqual(big.slice(0, 300));
    const kinds = new Set(big.map((c) => c.behaviour.kind));
    const all: BehaviourKind[] = [
      'valid',
      'smuggle',
      'no-content',
      'malformed-json',
      'not-utf8',
      'not-strict',
      'wrong-shape',
      'event-order',
      'huge-body',
      'huge-headers',
      'trickle',
      'stall',
      'cut',
      'error-status',
      'not-http',
    ];
    expect([...kinds].sort()).toEqual([...all].sort());
    expect(new Set(big.map((c) => c.endpoint)).size).toBe(Object.keys(ENDPOINTS).length);
  });

  it('can fail: a driver that skips schema checks is caught returning wrong shapes', async () => {
    const campaign = await startCampaign();
    const w = campaign.workers[0] as Worker;
    const lax = createHttpDriver(`${campaign.server.url}${w.prefix}`, { ...BASE, validate: false });
    cleanups.push(() => lax.close());
    const cases = fc.sample(driverCase(['wrong-shape']), { seed: 7, numRuns: 20 });
    let caught = 0;
    for (const [i, c] of cases.entries()) if ((await runCase(campaign, w, i, c, lax)).problem) caught++;
    expect(caught).toBe(cases.filter((c) => expected(c).code !== 'HRN_ERR_DRIVER_CONTRACT_VERSION').length);
  });
});

describe('the HTTP driver at its real limits', () => {
  it('an answer past the default 8 MiB is TOO_LARGE, and reading stops', async () => {
    const server = await startHostileDriver({
      decide: () => ({ kind: 'huge-body', factor: 4, framing: 'chunked' }),
    });
    cleanups.push(() => server.close());
    const d = createHttpDriver(server.url, { timeoutMs: 5_000 });
    cleanups.push(() => d.close());
    const t0 = performance.now();
    const e = await d.manifest().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DriverError);
    expect((e as DriverError).message).toBe(
      'HRN_ERR_DRIVER_TOO_LARGE: GET /v1/manifest: the answer went past 8388608 bytes, more than the limit of 8388608; stopped reading',
    );
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('a body that stalls ends at the idle limit, long before the call limit', async () => {
    const server = await startHostileDriver({ decide: () => ({ kind: 'stall', at: 'mid-body' }) });
    cleanups.push(() => server.close());
    const d = createHttpDriver(server.url, { timeoutMs: 10_000, idleTimeoutMs: 300 });
    cleanups.push(() => d.close());
    const t0 = performance.now();
    const e = (await d.reset().catch((x: unknown) => x)) as DriverError;
    expect(e.message).toBe(
      'HRN_ERR_DRIVER_TIMEOUT: POST /v1/reset: the answer began but stalled: no data for 300 ms',
    );
    expect(performance.now() - t0).toBeLessThan(2_500);
    expect(DEFAULT_IDLE_TIMEOUT_MS).toBe(5_000);
  });

  it('headers over 16 KiB are TOO_LARGE, and a reply that is no HTTP is UNREACHABLE, not retried into a pass', async () => {
    let n = 0;
    const server = await startHostileDriver({
      decide: () =>
        ++n === 1
          ? { kind: 'huge-headers', bytes: 20_000, many: false }
          : { kind: 'not-http', text: 'SSH-2.0-x\r\n' },
    });
    cleanups.push(() => server.close());
    const d = createHttpDriver(server.url, { retryDelayMs: 1 });
    cleanups.push(() => d.close());
    const big = (await d
      .send({ to: '491701234567@s.whatsapp.net', content: { type: 'text', text: 'x' } })
      .catch((x: unknown) => x)) as DriverError;
    expect(big.message).toBe(
      "HRN_ERR_DRIVER_TOO_LARGE: POST /v1/send: the answer's status line and headers are larger than 16384 bytes; stopped reading",
    );
    const junk = (await d.manifest().catch((x: unknown) => x)) as DriverError;
    expect(junk.code).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect(junk.message).toMatch(
      /^HRN_ERR_DRIVER_UNREACHABLE: GET \/v1\/manifest: the answer is not valid HTTP\/1\.1 \(.*\) \(3 attempts\)$/,
    );
  });

  it('a million-deep body is BAD_JSON, not a stack overflow in the call log', async () => {
    const server = await startHostileDriver({
      decide: () => ({ kind: 'not-strict', what: 'deep', depth: 1_000_000, seed: 1 }),
    });
    cleanups.push(() => server.close());
    const d = createHttpDriver(server.url);
    cleanups.push(() => d.close());
    const e = (await d.events(0, 0).catch((x: unknown) => x)) as DriverError;
    expect(e).toBeInstanceOf(DriverError);
    expect(e.message).toBe(
      `HRN_ERR_DRIVER_BAD_JSON: GET /v1/events: the answer is not strict JSON (RFC 7493): nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
    expect(() => d.log.toJsonl()).not.toThrow();
  });
});

describe('strictJsonProblem', () => {
  it('accepts what the contract sends, however it is written', () => {
    for (const text of [
      '{"ok":true}',
      ' { "a" : [ 1 , { "a" : 2 } ] , "b" : { "a" : 3 } } ',
      '{"a":"[{\\"}]","b":"\\\\","c":"}{"}',
      '{"a":"\\ud83d\\ude00 \\u00e9"}',
      '[[[[[]]]]]',
      '{"":1,"a":{"":2}}',
      '"just a string"',
      JSON.stringify({ events: [{ a: 1 }, { a: 1 }] }),
    ])
      expect(strictJsonProblem(text), text).toBeUndefined();
  });

  it('refuses a member twice, however it is spelled, a lone surrogate and too deep a body', () => {
    expect(strictJsonProblem('{"a":1,"a":2}')).toBe('the member "a" appears twice in one object');
    expect(strictJsonProblem('{"a":1,"\\u0061":2}')).toBe('the member "a" appears twice in one object');
    expect(strictJsonProblem('{"x":{"a":1},"y":[{"b":1,"b":1}]}')).toMatch(/"b" appears twice/);
    expect(strictJsonProblem('{"a":"\\ud800"}')).toMatch(/lone surrogate/);
    expect(strictJsonProblem('{"a":"\\udc00\\ud800"}')).toMatch(/lone surrogate/);
    expect(strictJsonProblem('['.repeat(64) + ']'.repeat(64))).toBeUndefined();
    expect(strictJsonProblem('['.repeat(65) + ']'.repeat(65))).toBe('nested deeper than 64 levels');
  });
});
