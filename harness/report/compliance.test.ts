import { describe, expect, it } from 'vitest';
import { complianceMarkdown } from './compliance.ts';
import { catalogue, frame, inputOf, OFFSET, run, T0 } from './testing/runs.ts';

const wire = [
  frame(1, T0 + OFFSET + 10, '<message id="first"/>'),
  frame(2, T0 + OFFSET + 250, '<message id="replayed"/>'),
  frame(3, T0 + OFFSET + 260, '<receipt id="replayed"/>', { direction: 'c2s' }),
];

const results = [
  run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] }),
  // A timeout fails its requirement without naming it; the named requirement comes first.
  run({
    outcome: 'TIMEOUT',
    id: 'PRIV-CANARY-001',
    requirements: ['REQ-PRIV-001'],
    reason: 'TIMEOUT: no answer',
  }),
  run({ outcome: 'FAIL', findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED' }], transcript: wire }),
  run({
    outcome: 'NON_STRICT',
    id: 'TYPING-SHOW-001',
    requirements: ['REQ-TYPING-001'],
    findings: [{ code: 'VIO_TYPING_NOT_SENT', level: 'SHOULD' }],
  }),
  run({
    outcome: 'NOT_APPLICABLE',
    id: 'TYPING-SEND-001',
    requirements: ['REQ-TYPING-002'],
    reason: 'needs typing-send',
  }),
  run({ outcome: 'ERROR', variant: 'broken', reason: 'HRN_ERR_DRIVER_UNREACHABLE: refused' }),
];

describe('complianceMarkdown', () => {
  const md = complianceMarkdown(inputOf(results));
  const at = (text: string) => {
    const i = md.indexOf(text);
    expect(i, text).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('puts the verdict first, then failed MUST requirements, errors, SHOULD findings, skips and gaps', () => {
    expect(md.split('\n')[2]).toMatch(
      /^\*\*Verdict: NOT CERTIFIED\*\* \(\d+ of \d+ MUST requirements passed\)$/,
    );
    const order = [
      '## Failed MUST requirements (2)',
      '## Harness errors (1 runs)',
      '## SHOULD findings (1)',
      '## Not applicable (1 runs)',
      '## Coverage gaps',
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(at('### REQ-E2EE-007')).toBeLessThan(at('### REQ-PRIV-001'));
  });

  it('puts a security requirement before a functional one that failed as often', () => {
    const two = [
      run({
        outcome: 'FAIL',
        id: 'MSG-MEDIA-002',
        requirements: ['REQ-MSG-006'],
        findings: [{ code: 'VIO_MSG_MEDIATYPE_MISMATCH' }],
      }),
      run({
        outcome: 'FAIL',
        id: 'MSG-STANZA-001',
        requirements: ['REQ-MSG-019'],
        findings: [{ code: 'VIO_MSG_MEDIATYPE_MISMATCH' }],
      }),
    ];
    expect(catalogue.byId('REQ-MSG-006')?.bugClass).toBe('FUNCTIONALITY');
    expect(catalogue.byId('REQ-MSG-019')?.bugClass).not.toBe('FUNCTIONALITY');
    const text = complianceMarkdown(inputOf(two));
    expect(text.indexOf('### REQ-MSG-019')).toBeLessThan(text.indexOf('### REQ-MSG-006'));
  });

  it('gives each failed requirement its quote, source, failing step and a wire excerpt of that step', () => {
    const req = catalogue.byId('REQ-E2EE-007');
    expect(md).toContain(`> ${req?.quote.trim().split('\n')[0]}`);
    expect(md).toContain('Source: interop-cert interop profile');
    expect(md).toContain('- VIO_E2EE_REPLAY_ACCEPTED at step "check": VIO_E2EE_REPLAY_ACCEPTED happened');
    const block = md.slice(at('### REQ-E2EE-007'), at('### REQ-PRIV-001'));
    expect(block).toContain(
      'wire (from evidence/E2EE-REPLAY-001/default.signal-x3dh.wire.jsonl), 1 earlier entries left out',
    );
    expect(block).toContain('#2 <- 1-10853634039893@interop  <message id="replayed"/>');
    expect(block).not.toContain('id="first"');
    expect(md.slice(at('### REQ-PRIV-001'))).toContain('TIMEOUT: no answer');
  });

  it('lists harness errors, skips with their reasons, and requirements left uncovered', () => {
    expect(md).toContain('- E2EE-REPLAY-001 broken signal-x3dh: HRN_ERR_DRIVER_UNREACHABLE: refused');
    expect(md).toContain('- TYPING-SEND-001 default signal-x3dh: needs typing-send');
    expect(md).toMatch(/requirement\(s\) whose every run did not apply:\n\nREQ-TYPING-002 \(SHOULD\)/);
    expect(md).toMatch(/requirement\(s\) no scenario of this run checked/);
  });

  it('says so at the top when the run is partial', () => {
    const partial = complianceMarkdown(inputOf(results, { meta: { partial: true, interrupted: true } }));
    expect(partial.split('\n')[2]).toBe(
      '**PARTIAL RUN: the run was interrupted; this report covers the 6 runs that ended.**',
    );
  });

  it('cannot be closed early by backticks in a stanza', () => {
    const sneaky = run({
      outcome: 'FAIL',
      findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED' }],
      transcript: [frame(1, T0 + OFFSET + 250, '<m>```\n# not a heading</m>')],
    });
    const text = complianceMarkdown(inputOf([sneaky]));
    expect(text).toContain('````');
  });
});
