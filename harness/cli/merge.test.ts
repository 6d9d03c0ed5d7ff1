import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { verifyRun } from '../report/sign.ts';
import { runKey, summarise } from '../report/summary.ts';
import type { RunMeta } from '../report/write.ts';
import { writeRun } from '../report/write.ts';
import { loadCatalogue } from '../requirements/load.ts';
import type { CryptoProfileId, RequirementId } from '../requirements/types.ts';
import { CRYPTO_PROFILES } from '../requirements/types.ts';
import { variantsOf } from '../scenario/define.ts';
import { loadScenarios } from '../scenario/loader.ts';
import type { Outcome, ScenarioResult } from '../scenario/runner.ts';
import type { ExitCode } from './main.ts';
import { registerMerge, runOrder } from './merge.ts';

const catalogue = loadCatalogue();
const scenarios = await loadScenarios();
const fixtures = fileURLToPath(new URL('../../fixtures/waivers/', import.meta.url));

/** The command line as main runs it: exit codes instead of exits. */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code: ExitCode = 0;
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const program = new Command('interop-cert')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  registerMerge(program, io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(['node', 'interop-cert', 'merge', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = 2;
    else if (e instanceof HarnessError) {
      err.push(e.message);
      code = e.code === 'HRN_ERR_USAGE' ? 2 : 3;
    } else throw e;
  }
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** What each run of the suite gives in these tests; everything else passes. */
const OUTCOMES: Readonly<Record<string, Outcome>> = {
  'E2EE-REPLAY-001 first-message signal-x3dh': 'FAIL',
  'TYPING-SEND-002 typing signal-pqxdh': 'NON_STRICT',
  'MSG-TEXT-001 ascii signal-pqxdh': 'TIMEOUT',
};

function outcomeOf(key: string, id: string): Outcome {
  if (id.startsWith('TYPING-SEND-')) return OUTCOMES[key] ?? 'NOT_APPLICABLE';
  return OUTCOMES[key] ?? 'PASS';
}

/** Every scenario run of the suite, in the order an unsharded run makes them. */
function fullRun(over: Readonly<Record<string, Outcome>> = {}): ScenarioResult[] {
  return CRYPTO_PROFILES.flatMap((profile) =>
    scenarios.flatMap(({ scenario }) =>
      variantsOf(scenario).map(([variant]): ScenarioResult => {
        const key = runKey({ id: scenario.id, variant, profile });
        const outcome = over[key] ?? outcomeOf(key, scenario.id);
        const requirement = scenario.requirements[0] as RequirementId;
        const findings =
          outcome === 'FAIL' || outcome === 'NON_STRICT'
            ? [
                {
                  level: outcome === 'FAIL' ? ('MUST' as const) : ('SHOULD' as const),
                  code:
                    outcome === 'FAIL'
                      ? ('VIO_E2EE_REPLAY_ACCEPTED' as const)
                      : ('VIO_TYPING_NOT_SENT' as const),
                  requirement,
                  step: 'the check',
                  message: 'found',
                },
              ]
            : [];
        return {
          id: scenario.id,
          variant,
          profile,
          outcome,
          level: scenario.level,
          requirements: scenario.requirements,
          findings,
          steps: [],
          notes: [],
          durationMs: 3,
          ...(outcome === 'TIMEOUT' ? { reason: 'TIMEOUT: no answer' } : {}),
          evidence: {
            transcript: [{ seq: 1, direction: 'c2s', text: `<iq id="${key}"/>` } as never],
            events: [],
          },
        };
      }),
    ),
  );
}

const META: RunMeta = {
  harnessVersion: '0.1.0',
  contractVersion: '1.0',
  candidate: CRYPTO_PROFILES.map((profile) => ({ name: 'reference', version: '0.1.0', profile })),
  seed: 'ci-7',
  node: 'v20.19.0',
  startedAt: '2026-11-25T10:00:00.000Z',
  finishedAt: '2026-11-25T10:30:00.000Z',
  partial: false,
};

function write(dir: string, results: readonly ScenarioResult[], meta: object): string {
  const summary = summarise(results, catalogue, CRYPTO_PROFILES as readonly CryptoProfileId[]);
  writeRun(dir, { results, summary, meta: meta as RunMeta, catalogue });
  return dir;
}

/** The suite run written whole and as `count` shards (position modulo count by run key). */
function sharded(count: number, results = fullRun()) {
  const root = mkdtempSync(join(tmpdir(), 'merge-cli-'));
  const whole = write(join(root, 'whole'), results, META);
  const ordered = [...results].sort((a, b) => (runKey(a) < runKey(b) ? -1 : 1));
  const shards = Array.from({ length: count }, (_, k) => {
    const keep = new Set(ordered.filter((_, i) => i % count === k).map(runKey));
    return write(
      join(root, `shard-${k + 1}`),
      results.filter((r) => keep.has(runKey(r))),
      { ...META, shard: { index: k + 1, count } },
    );
  });
  return { root, whole, shards, out: join(root, 'merged') };
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.includes('.'))
    .sort();
}

function summaryOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;
}

describe('interop-cert merge', () => {
  it('the order of the run is profile, scenario file, variant', () => {
    expect(runOrder(scenarios)).toEqual(fullRun().map(runKey));
    // The runs these tests fail are runs of the suite.
    expect(runOrder(scenarios)).toEqual(expect.arrayContaining(Object.keys(OUTCOMES)));
  });

  it('gives the unsharded run: the same verdict, counts, files and evidence', async () => {
    const { whole, shards, out } = sharded(3);
    const r = await cli(shards[1] as string, shards[2] as string, shards[0] as string, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toContain('merged 3 shard(s)');
    expect(r.out).toContain('1 FAIL');
    // The shards were written without the end-of-run files (Allure, the signature); the merged
    // run has them, made from the merged record, and is checked by verify.
    const own = (f: string) => f.startsWith('allure-results') || f === 'signature.json';
    expect(files(out).filter((f) => !own(f))).toEqual(files(whole));
    expect(files(out)).toContain('signature.json');
    expect(verifyRun(out).ok).toBe(true);
    for (const f of files(whole).filter((f) => f !== 'summary.json')) {
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(whole, f), 'utf8'));
    }
    const { meta: m1, ...merged } = summaryOf(out);
    const { meta: m2, ...unsharded } = summaryOf(whole);
    expect(merged).toEqual(unsharded);
    expect(m1).toEqual({ ...(m2 as object), shards: 3 });
  });

  it('a waiver file covering the failures makes the exit code 0, and is reported', async () => {
    const { shards, out } = sharded(2);
    const waivers = join(mkdtempSync(join(tmpdir(), 'merge-w-')), 'w.yml');
    writeFileSync(
      waivers,
      'version: 1\nwaivers:\n' +
        '  - { scenario: E2EE-REPLAY-001, codes: [VIO_E2EE_REPLAY_ACCEPTED], reason: r, owner: o, expires: "2027-01-01" }\n' +
        '  - { scenario: MSG-TEXT-001, profile: signal-pqxdh, reason: r, owner: o, expires: "2027-01-01" }\n' +
        '  - { scenario: BLOCK-SET-001, reason: fixed since, owner: o, expires: "2027-01-01" }\n',
    );
    const r = await cli(...shards, '--out', out, '--waivers', waivers);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/waiver stale +waiver 3 \(BLOCK-SET-001\)/);
    const summary = summaryOf(out) as {
      waivers: { waived: { run: string }[] };
      counts: Record<string, number>;
    };
    // The verdict is untouched; only the exit code changed.
    expect(summary.counts.FAIL).toBe(1);
    expect(summary.waivers.waived.map((w) => w.run)).toEqual([
      'MSG-TEXT-001 ascii signal-pqxdh',
      'E2EE-REPLAY-001 first-message signal-x3dh',
    ]);
    expect(readFileSync(join(out, 'compliance.md'), 'utf8')).toContain('## Waivers');
  });

  it('refuses a waiver on a MUST scenario in a certification run (exit 2)', async () => {
    const { shards, out } = sharded(2);
    const r = await cli(...shards, '--out', out, '--certify', '--waivers', join(fixtures, 'on-a-must.yml'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'HRN_ERR_WAIVER_MUST: a waiver cannot cover a MUST requirement in a certification run',
    );
  });

  it('exits 1 in a certification run that is not certified, 3 when a run is ERROR', async () => {
    const a = sharded(2);
    const r1 = await cli(...a.shards, '--out', a.out, '--certify');
    expect(r1.code).toBe(1);
    expect(r1.out).toContain('certification: NOT CERTIFIED');
    const b = sharded(2, fullRun({ 'BLOCK-SET-001 default signal-x3dh': 'ERROR' }));
    expect((await cli(...b.shards, '--out', b.out)).code).toBe(3);
  });

  it('exits 0 when every run passed', async () => {
    const pass = Object.fromEntries(Object.keys(OUTCOMES).map((k) => [k, 'PASS' as const]));
    const { shards, out } = sharded(2, fullRun(pass));
    expect((await cli(...shards, '--out', out)).code).toBe(0);
  });

  it('refuses a missing shard, shards of different runs and a non-empty --out (exit 2)', async () => {
    const { root, shards, out } = sharded(3);
    const r1 = await cli(shards[0] as string, shards[2] as string, '--out', out);
    expect(r1.code).toBe(2);
    expect(r1.err).toContain('HRN_ERR_MERGE_SHARDS: shard(s) 2/3 missing');

    const other = write(join(root, 'other'), [], { ...META, seed: 'ci-8', shard: { index: 2, count: 3 } });
    const r2 = await cli(shards[0] as string, other, shards[2] as string, '--out', out);
    expect(r2.code).toBe(2);
    expect(r2.err).toContain('HRN_ERR_MERGE_MISMATCH');

    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'old.txt'), 'x');
    const r3 = await cli(...shards, '--out', out);
    expect(r3.code).toBe(2);
    expect(r3.err).toContain('is not empty');
    expect((await cli(...shards)).code).toBe(2);
  });
});
