// The engine graded against a stand-in candidate over the real server: a passing scenario, a
// MUST and a SHOULD failure, a negative check decided by a fence, a timeout, a harness error,
// a missing feature, and the evidence each result carries.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { getProfile } from '../crypto/profiles.ts';
import { defineScenario } from './define.ts';
import type { ScenarioEnvironment } from './environment.ts';
import { openEnvironment } from './environment.ts';
import { grade, runScenario } from './runner.ts';
import { PeerCandidate } from './testing/peer-candidate.ts';

let env: ScenarioEnvironment;
beforeAll(async () => {
  env = await openEnvironment({ driver: new PeerCandidate(getProfile('signal-x3dh')), seed: 'engine' });
});
afterAll(async () => {
  await env.close();
});

const base = { level: 'MUST', kind: 'conformance', requirements: ['REQ-MSG-001'] } as const;

const textArrives = defineScenario({
  ...base,
  id: 'MSG-TEXT-901',
  title: 'a text from a peer is shown',
  async run(ctx) {
    const alice = await ctx.peer({ name: 'Alice' });
    const sent = await ctx.step('peer sends text', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'hi' }),
    );
    const shown = await ctx.step('candidate shows it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id),
    );
    ctx.must(shown.content.text === 'hi', 'VIO_MSG_CONTENT_MISMATCH', `showed ${shown.content.text}`);
  },
});

describe('runScenario', () => {
  it('passes a scenario whose checks hold, with its steps and its slice of the wire', async () => {
    const r = await runScenario(textArrives, 'default', undefined, env);
    expect(r.outcome).toBe('PASS');
    expect(r.steps.map((s) => [s.label, s.status])).toEqual([
      ['peer sends text', 'ok'],
      ['candidate shows it', 'ok'],
    ]);
    expect(r.evidence.transcript.some((e) => e.kind === 'frame' && e.stanza.startsWith('<message'))).toBe(
      true,
    );
    expect(r.evidence.events.some((e) => e.type === 'message-received')).toBe(true);
  });

  it('fails on a MUST finding, is NON_STRICT on a SHOULD one, and names the step and requirement', async () => {
    const failing = defineScenario({
      ...base,
      id: 'MSG-TEXT-902',
      title: 'checks that cannot hold',
      async run(ctx) {
        await ctx.step('compare', () => {
          ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'expected x, got y', 'REQ-MSG-002');
        });
      },
    });
    const r = await runScenario(failing, 'default', undefined, env);
    expect(r.outcome).toBe('FAIL');
    expect(r.findings).toEqual([
      {
        level: 'MUST',
        code: 'VIO_MSG_CONTENT_MISMATCH',
        requirement: 'REQ-MSG-002',
        step: 'compare',
        message: 'expected x, got y',
      },
    ]);
    expect(r.steps[0]?.status).toBe('failed');
    const soft = defineScenario({
      ...base,
      id: 'RCPT-PLAYED-901',
      title: 'a SHOULD that does not hold',
      level: 'SHOULD',
      async run(ctx) {
        ctx.should(false, 'VIO_RCPT_MISSING', 'no played receipt');
      },
    });
    expect((await runScenario(soft, 'default', undefined, env)).outcome).toBe('NON_STRICT');
  });

  it('names the last step for a check made between steps, and the outer step for a nested one', async () => {
    const between = defineScenario({
      ...base,
      id: 'MSG-TEXT-906',
      title: 'checks outside and inside steps',
      async run(ctx) {
        ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'before any step');
        await ctx.step('outer', async () => {
          await ctx.step('inner', () => undefined);
          ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'inside outer');
        });
        ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'after outer');
      },
    });
    const r = await runScenario(between, 'default', undefined, env);
    expect(r.findings.map((f) => f.step)).toEqual(['(setup)', 'outer', 'after: outer']);
  });

  it('decides a negative check with a fence: a replayed message is not shown twice', async () => {
    const replay = defineScenario({
      ...base,
      id: 'E2EE-REPLAY-901',
      title: 'a replay is not shown',
      requirements: ['REQ-E2EE-001'],
      async run(ctx) {
        const alice = await ctx.peer();
        const first = await alice.send(ctx.candidate.jid, { type: 'text', text: 'once' });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === first.id);
        const since = ctx.candidate.events.cursor;
        ctx.server.core.replay(ctx.candidate.jid);
        await ctx.fence(alice);
        const again = ctx.candidate.events.of('message-received', since).filter((e) => e.id === first.id);
        ctx.must(again.length === 0, 'VIO_E2EE_REPLAY_ACCEPTED', 'the replay was shown again');
      },
    });
    const r = await runScenario(replay, 'default', undefined, env);
    expect(r.outcome).toBe('PASS');
    expect(r.evidence.transcript.some((e) => e.kind === 'event' && e.event === 'fault-fired')).toBe(true);
  });

  it('reports TIMEOUT when the candidate never answers, and ERROR for a harness failure', async () => {
    const silent = defineScenario({
      ...base,
      id: 'MSG-TEXT-903',
      title: 'waits for something that never comes',
      timeoutMs: 300,
      async run(ctx) {
        await ctx.candidate.events.waitFor('security-notice', () => true, { timeoutMs: 10_000 });
      },
    });
    const t = await runScenario(silent, 'default', undefined, env);
    expect(t.outcome).toBe('TIMEOUT');
    expect(t.reason).toMatch(/TIMEOUT/);
    const broken = defineScenario({
      ...base,
      id: 'MSG-TEXT-904',
      title: 'the harness breaks',
      async run() {
        throw new HarnessError('HRN_ERR_INTERNAL', 'a bug of ours');
      },
    });
    const e = await runScenario(broken, 'default', undefined, env);
    expect(e.outcome).toBe('ERROR');
    expect(e.findings).toEqual([]);
  });

  it('is NOT_APPLICABLE when the manifest lacks a feature, without running', async () => {
    let ran = false;
    const presence = defineScenario({
      ...base,
      id: 'TYPING-PRESENCE-901',
      title: 'needs presence',
      level: 'MAY',
      features: ['presence'],
      async run() {
        ran = true;
      },
    });
    const r = await runScenario(presence, 'default', undefined, env);
    expect(r.outcome).toBe('NOT_APPLICABLE');
    expect(ran).toBe(false);
  });
});

describe('grade', () => {
  it('follows the levels', () => {
    const f = (level: 'MUST' | 'SHOULD' | 'MAY') =>
      ({ level, code: 'VIO_RCPT_MISSING', requirement: 'REQ-RCPT-001', step: 's', message: 'm' }) as const;
    expect(grade('MUST', [])).toBe('PASS');
    expect(grade('MAY', [])).toBe('INFORMATIONAL');
    expect(grade('SHOULD', [f('SHOULD')])).toBe('NON_STRICT');
    expect(grade('SHOULD', [f('SHOULD'), f('MUST')])).toBe('FAIL');
    // Only MUST and SHOULD findings grade; a MAY one is an observation.
    expect(grade('MUST', [f('MAY')])).toBe('PASS');
    expect(grade('MAY', [f('MAY')])).toBe('INFORMATIONAL');
  });
});
