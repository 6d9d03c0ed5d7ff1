import { describe, expect, it } from 'vitest';
import { SARIF_SCHEMA, sarifLog } from './sarif.ts';
import { catalogue, inputOf, run } from './testing/runs.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test walks a free-form JSON document
type Json = Record<string, any>;

const results = [
  run({ outcome: 'FAIL', findings: [{ code: 'VIO_E2EE_REPLAY_ACCEPTED', step: 'after: send' }] }),
  run({
    outcome: 'NON_STRICT',
    id: 'TYPING-SHOW-001',
    requirements: ['REQ-TYPING-001'],
    findings: [{ code: 'VIO_TYPING_NOT_SENT', level: 'SHOULD' }],
  }),
  run({
    outcome: 'TIMEOUT',
    id: 'PRIV-CANARY-001',
    requirements: ['REQ-PRIV-001'],
    reason: 'TIMEOUT: no answer',
  }),
  run({ outcome: 'ERROR', variant: 'broken', reason: 'HRN_ERR_DRIVER_TIMEOUT: POST /v1/send' }),
  run({ outcome: 'PASS', id: 'MSG-TEXT-001', requirements: ['REQ-MSG-001'] }),
];

describe('sarifLog', () => {
  const log = sarifLog(inputOf(results)) as Json;
  const sarifRun = log.runs[0] as Json;

  it('is a SARIF 2.1.0 log of one run by interop-cert', () => {
    expect(log.$schema).toBe(SARIF_SCHEMA);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    expect(sarifRun.tool.driver).toMatchObject({ name: 'interop-cert', version: '0.1.0' });
    expect(Array.isArray(sarifRun.results)).toBe(true);
    // JSON through and through: what is written is what is read.
    expect(JSON.parse(JSON.stringify(log))).toEqual(log);
  });

  it('has one rule per requirement with a finding, with its bug class, quote and source', () => {
    const rules = sarifRun.tool.driver.rules as Json[];
    expect(rules.map((r) => r.id)).toEqual(['REQ-E2EE-007', 'REQ-PRIV-001', 'REQ-TYPING-001']);
    const replay = rules[0] as Json;
    const req = catalogue.byId('REQ-E2EE-007');
    expect(replay.properties.bugClass).toBe(req?.bugClass);
    expect(replay.help.text).toContain(req?.quote.trim());
    expect(replay.help.text).toContain('Source: ');
    expect(replay.defaultConfiguration.level).toBe('error');
  });

  it('has one result per finding: error for MUST, warning for SHOULD, at a logical location', () => {
    const byRule = new Map((sarifRun.results as Json[]).map((r) => [r.ruleId, r]));
    expect(sarifRun.results).toHaveLength(3);
    const replay = byRule.get('REQ-E2EE-007') as Json;
    expect(replay.level).toBe('error');
    expect(replay.message.text).toMatch(/^VIO_E2EE_REPLAY_ACCEPTED: /);
    expect(replay.locations[0].logicalLocations[0].fullyQualifiedName).toBe(
      'E2EE-REPLAY-001/default/signal-x3dh/after: send',
    );
    expect(sarifRun.tool.driver.rules[replay.ruleIndex].id).toBe('REQ-E2EE-007');
    expect(byRule.get('REQ-TYPING-001')?.level).toBe('warning');
    expect(byRule.get('REQ-PRIV-001')?.message.text).toBe('TIMEOUT: TIMEOUT: no answer');
  });

  it('reports harness errors as notifications of an unsuccessful invocation, not as findings', () => {
    const inv = sarifRun.invocations[0] as Json;
    expect(inv.executionSuccessful).toBe(false);
    expect(inv.toolExecutionNotifications[0].descriptor.id).toBe('HRN_ERR_DRIVER_TIMEOUT');
    const clean = sarifLog(inputOf([results[4] as never])) as Json;
    expect(clean.runs[0].results).toEqual([]);
    expect(clean.runs[0].invocations[0].executionSuccessful).toBe(true);
  });
});
