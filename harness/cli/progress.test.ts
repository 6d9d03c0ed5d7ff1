import { describe, expect, it } from 'vitest';
import { run } from '../report/testing/runs.ts';
import { interactive, plainProgress, resultLine } from './progress.ts';

describe('progress', () => {
  it('prints one line per finished run, its findings below it', () => {
    const out: string[] = [];
    const p = plainProgress({ out: (l) => out.push(l), err: (l) => out.push(`err ${l}`) });
    p.planned(2);
    p.result(run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] }));
    p.result(run({ outcome: 'FAIL', findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED', step: 'after: send' }] }));
    p.stop();
    expect(out).toEqual([
      'PASS           MSG-TEXT-001 default (signal-x3dh) 300 ms',
      'FAIL           E2EE-REPLAY-001 default (signal-x3dh) 300 ms\n' +
        '    MUST VIO_E2EE_REPLAY_ACCEPTED REQ-E2EE-007 at "after: send": VIO_E2EE_REPLAY_ACCEPTED happened',
    ]);
  });

  it('prints JSON lines without the evidence with --json', () => {
    const out: string[] = [];
    plainProgress({ out: (l) => out.push(l), err: () => {} }, { json: true }).result(
      run({ outcome: 'PASS' }),
    );
    const parsed = JSON.parse(out[0] ?? '');
    expect(parsed).toMatchObject({ id: 'E2EE-REPLAY-001', outcome: 'PASS' });
    expect(parsed).not.toHaveProperty('evidence');
  });

  it('says why a run ended early, except for a pass', () => {
    expect(resultLine(run({ outcome: 'TIMEOUT', reason: 'TIMEOUT: no answer\nstack' }))).toContain(
      '\n    TIMEOUT: no answer',
    );
    expect(resultLine(run({ outcome: 'PASS', reason: 'stopped early' }))).not.toContain('stopped early');
  });

  it('draws a bar only on a terminal, outside CI and without --json', () => {
    // The test runner's streams are not terminals.
    expect(interactive({}, {})).toBe(process.stdout.isTTY === true && process.stderr.isTTY === true);
    expect(interactive({}, { CI: 'true' })).toBe(false);
    expect(interactive({ json: true }, {})).toBe(false);
  });
});
