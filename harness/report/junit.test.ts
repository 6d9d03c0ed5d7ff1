import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { junitXml, xmlSafe } from './junit.ts';
import { frame, inputOf, run } from './testing/runs.ts';

const results = [
  run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] }),
  run({
    outcome: 'FAIL',
    findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED', message: 'shown <twice> & "again"' }],
    transcript: [frame(1, 0, '<message id="a"/>')],
  }),
  run({ outcome: 'TIMEOUT', variant: 'slow', reason: 'TIMEOUT: no message-received in 10000 ms' }),
  run({
    outcome: 'ERROR',
    variant: 'broken',
    reason: 'HRN_ERR_DRIVER_UNREACHABLE: POST /v1/send: refused\nstack',
  }),
  run({
    outcome: 'NOT_APPLICABLE',
    id: 'TYPING-SEND-001',
    requirements: ['REQ-TYPING-001'],
    reason: 'needs typing-send',
  }),
  run({
    outcome: 'NON_STRICT',
    id: 'TYPING-SHOW-001',
    requirements: ['REQ-TYPING-001'],
    findings: [{ code: 'VIO_TYPING_NOT_SENT', level: 'SHOULD' }],
  }),
];

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  isArray: (n) => n === 'testsuite' || n === 'testcase',
});

function parsed(xml: string) {
  const doc = parser.parse(xml) as {
    testsuites: { '@_tests': string; '@_failures': string; testsuite: Record<string, unknown>[] };
  };
  const cases = new Map<string, Record<string, unknown>>();
  for (const s of doc.testsuites.testsuite)
    for (const c of s.testcase as Record<string, unknown>[]) cases.set(String(c['@_name']), c);
  return { doc, cases };
}

describe('junitXml', () => {
  it('has one suite per area and one case per run, named ID variant (profile), classname the area', () => {
    const { doc, cases } = parsed(junitXml(inputOf(results)));
    expect(doc.testsuites.testsuite.map((s) => s['@_name'])).toEqual(['MSG', 'E2EE', 'TYPING']);
    expect(doc.testsuites['@_tests']).toBe('6');
    expect(doc.testsuites['@_failures']).toBe('2');
    expect([...cases.keys()]).toContain('E2EE-REPLAY-001 default (signal-x3dh)');
    expect(cases.get('MSG-TEXT-001 default (signal-x3dh)')).toMatchObject({
      '@_classname': 'MSG',
      '@_time': '0.300',
    });
  });

  it('maps outcomes: failure with code and message, error for harness faults, skipped, notes for SHOULD', () => {
    const { cases } = parsed(junitXml(inputOf(results)));
    const fail = cases.get('E2EE-REPLAY-001 default (signal-x3dh)')?.failure as Record<string, string>;
    expect(fail['@_type']).toBe('VIO_E2EE_REPLAY_ACCEPTED');
    // Escaped on the way out, the same text on the way back.
    expect(fail['@_message']).toBe('VIO_E2EE_REPLAY_ACCEPTED REQ-E2EE-007: shown <twice> & "again"');
    expect(fail['#text']).toContain('evidence: evidence/E2EE-REPLAY-001/default.signal-x3dh.wire.jsonl');
    const timeout = cases.get('E2EE-REPLAY-001 slow (signal-x3dh)')?.failure as Record<string, string>;
    expect(timeout['@_type']).toBe('TIMEOUT');
    const error = cases.get('E2EE-REPLAY-001 broken (signal-x3dh)')?.error as Record<string, string>;
    expect(error['@_type']).toBe('HRN_ERR_DRIVER_UNREACHABLE');
    expect(error['@_message']).not.toContain('stack');
    expect(cases.get('TYPING-SEND-001 default (signal-x3dh)')?.skipped).toMatchObject({
      '@_message': 'needs typing-send',
    });
    const soft = cases.get('TYPING-SHOW-001 default (signal-x3dh)');
    expect(soft?.failure).toBeUndefined();
    expect(String(soft?.['system-out'])).toContain('NON_STRICT');
    expect(String(soft?.['system-out'])).toContain('VIO_TYPING_NOT_SENT');
  });

  it('stays parseable XML whatever a message holds', () => {
    const hostile = run({
      outcome: 'FAIL',
      findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED', message: 'nul\u0000 bell\u0007 ]]> \uD800 <!-- -->' }],
    });
    const xml = junitXml(inputOf([hostile]));
    expect(xml.includes('\u0000') || xml.includes('\u0007')).toBe(false);
    const { cases } = parsed(xml);
    const fail = cases.get('E2EE-REPLAY-001 default (signal-x3dh)')?.failure as Record<string, string>;
    expect(fail['@_message']).toContain('nul\\u0000 bell\\u0007 ]]> \\ud800 <!-- -->');
    expect(xmlSafe('ok \uD83D\uDE00')).toBe('ok \uD83D\uDE00');
  });
});
