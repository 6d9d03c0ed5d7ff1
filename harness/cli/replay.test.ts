import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toResultLine } from '../report/results.ts';
import { catalogue, META, run } from '../report/testing/runs.ts';
import { RunWriter } from '../report/write.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import type { Io } from './main.ts';
import { main } from './main.ts';
import { pickRun, transcriptLine } from './replay.ts';

const { candidate: _c, partial: _p, finishedAt: _f, ...base } = META;

function capture(): Io & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (l) => lines.push(l), err: (l) => errs.push(l) };
}

describe('pickRun', () => {
  const line = (variant: string, profile: CryptoProfileId, outcome: 'PASS' | 'FAIL') =>
    toResultLine(run({ outcome, id: 'PRIV-CANARY-001', variant, profile }), {
      evidence: false,
      driverLog: false,
    });
  const lines = [
    line('text', 'signal-pqxdh', 'PASS'),
    line('reply', 'signal-pqxdh', 'FAIL'),
    line('text', 'signal-x3dh', 'FAIL'),
  ];

  it('takes the first run of the scenario that did not pass', () => {
    expect(pickRun(lines, 'PRIV-CANARY-001', {})).toMatchObject({
      variant: 'reply',
      profile: 'signal-pqxdh',
    });
  });
  it('narrows by variant and profile, and finds nothing for an unknown id', () => {
    expect(pickRun(lines, 'PRIV-CANARY-001', { variant: 'text' })).toMatchObject({ profile: 'signal-x3dh' });
    expect(pickRun(lines, 'PRIV-CANARY-001', { variant: 'text', profile: 'signal-pqxdh' })).toMatchObject({
      outcome: 'PASS',
    });
    expect(pickRun(lines, 'MSG-TEXT-001', {})).toBeUndefined();
  });
});

describe('transcriptLine', () => {
  it('shows the direction, connection, address and stanza of a frame, and an event with its codes', () => {
    expect(
      transcriptLine({
        kind: 'frame',
        seq: 1,
        clock: 0,
        connection: 'c1',
        direction: 'c2s',
        address: 'a@b',
        stanza: '<x/>',
        bytes: 4,
        violations: [],
      }),
    ).toBe('>> c1 a@b <x/>');
    expect(
      transcriptLine({
        kind: 'event',
        seq: 2,
        clock: 0,
        event: 'violation',
        address: 'a@b',
        violations: [{ code: 'VIO_XML_MALFORMED', message: 'm' }],
      }),
    ).toBe('-- violation a@b VIO_XML_MALFORMED');
  });
});

describe('interop-cert replay', () => {
  it("re-runs a recorded failing run with the run's faults and prints its transcript", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const w = new RunWriter(dir, {
      meta: { ...base, candidate: [], faults: ['plaintext-body'] },
      catalogue,
      profiles: ['signal-pqxdh'],
    });
    w.start();
    w.add({
      result: run({
        outcome: 'FAIL',
        id: 'PRIV-CANARY-001',
        variant: 'text',
        profile: 'signal-pqxdh',
        requirements: ['REQ-PRIV-001'],
        findings: [{ code: 'VIO_PRIV_PLAINTEXT_LEAK' }],
      }),
    });
    await w.finish();
    const io = capture();
    const code = await main(['node', 'interop-cert', 'replay', dir, 'PRIV-CANARY-001'], io);
    expect(io.lines[0]).toMatch(
      /replaying PRIV-CANARY-001 text \(signal-pqxdh\) against reference with plaintext-body/,
    );
    expect(io.lines.some((l) => l.startsWith('>> ') && l.includes('<message'))).toBe(true);
    expect(io.lines.some((l) => /^FAIL PRIV-CANARY-001 text/.test(l))).toBe(true);
    expect(io.lines.some((l) => l.includes('VIO_PRIV_PLAINTEXT_LEAK'))).toBe(true);
    expect(code).toBe(1);
  });

  it('is a usage error for a run the directory does not hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const w = new RunWriter(dir, { meta: { ...base, candidate: [] }, catalogue, profiles: ['signal-x3dh'] });
    w.start();
    await w.finish();
    const io = capture();
    expect(await main(['node', 'interop-cert', 'replay', dir, 'E2EE-REPLAY-001'], io)).toBe(2);
    expect(io.errs.join('\n')).toMatch(/holds no run of E2EE-REPLAY-001/);
  });
});
