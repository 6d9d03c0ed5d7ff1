// The runner's checkers and grading against a stand-in environment (a scripted candidate event
// log, stub peers, a real transcript), so every path — features, profiles, demand, steps, each
// kind of ending, peer failures — runs in milliseconds and without a network.

import { afterEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { getProfile } from '../crypto/profiles.ts';
import type { CandidateDriver, DriverEvent, Manifest } from '../driver/contract.ts';
import type { Peer } from '../peers/peer.ts';
import type { Feature } from '../requirements/types.ts';
import { VirtualClock } from '../server/clock.ts';
import type { RunningServer } from '../server/server.ts';
import { Transcript } from '../server/transcript.ts';
import { CandidateEvents } from './candidate-events.ts';
import type { ScenarioContext } from './context.ts';
import type { ScenarioDefinition } from './define.ts';
import type { ScenarioEnvironment } from './environment.ts';
import { runScenario } from './runner.ts';

const CANDIDATE = '10853634039893-1@interop';
type Unsequenced<E> = E extends unknown ? Omit<E, 'seq' | 'at'> : never;
type NewEvent = Unsequenced<DriverEvent>;

interface StubPeer {
  readonly errors: Error[];
  readonly sent: unknown[];
  closed: boolean;
  /** What the candidate shows, in order, after this peer sends message `id`. */
  onSend: (id: string) => NewEvent[];
}

const open: CandidateEvents[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.stop()));
});

function stubEnvironment(features: readonly Feature[] = []) {
  const log: DriverEvent[] = [];
  let wake: (() => void) | undefined;
  const driver = {
    async events(after: number, waitMs: number) {
      if (log.length <= after) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, waitMs);
        });
      }
      return { events: log.slice(after), last: log.length };
    },
  } as unknown as CandidateDriver;
  const emit = (e: NewEvent) => {
    log.push({ ...e, seq: log.length + 1, at: Date.now() } as DriverEvent);
    wake?.();
  };
  const events = new CandidateEvents(driver);
  events.start(0, 20);
  open.push(events);
  const transcript = new Transcript(new VirtualClock({ frozen: true }));
  const peers: StubPeer[] = [];
  let sends = 0;
  const manifest: Manifest = {
    name: 'stub',
    version: '1',
    contractVersion: '1.0',
    cryptoProfile: 'signal-x3dh',
    features,
  };
  const env: ScenarioEnvironment = {
    profile: 'signal-x3dh',
    peerProfile: getProfile('signal-x3dh'),
    server: { transcript } as unknown as RunningServer,
    candidate: { driver, jid: CANDIDATE, manifest, events },
    async newPeer() {
      const peer: StubPeer = {
        errors: [],
        sent: [],
        closed: false,
        onSend: (id) => [{ type: 'message-received', id, from: 'peer', content: { type: 'text' } }],
      };
      const stub = {
        errors: peer.errors,
        close() {
          peer.closed = true;
        },
        async send(_to: string, what: unknown) {
          peer.sent.push(what);
          sends += 1;
          const id = `M${sends}`;
          // The candidate shows what arrives a moment later, in order.
          for (const [i, e] of peer.onSend(id).entries()) setTimeout(() => emit(e), 10 * (i + 1));
          return { id };
        },
      };
      peers.push(peer);
      return stub as unknown as Peer;
    },
    async close() {},
  };
  return { env, emit, transcript, peers };
}

const base = { level: 'MUST', kind: 'conformance', requirements: ['REQ-MSG-001'] } as const;
type Run = (ctx: ScenarioContext<undefined>) => Promise<void>;
const scenario = (run: Run, more: Partial<ScenarioDefinition> = {}): ScenarioDefinition =>
  ({ ...base, id: 'MSG-TEXT-950', title: 'stub', run, ...more }) as ScenarioDefinition;
const never = () => new Promise<never>(() => undefined);

describe('a result', () => {
  it('names the scenario, variant and profile, and carries only its own slice of the evidence', async () => {
    const { env, emit, transcript } = stubEnvironment();
    transcript.event({ event: 'before' });
    emit({ type: 'security-notice', jid: 'x' });
    await env.candidate.events.waitFor('security-notice');
    const started = Date.now();
    const r = await runScenario(
      scenario(async () => {
        transcript.event({ event: 'during' });
        emit({ type: 'typing', from: 'x', state: 'composing' });
        await env.candidate.events.waitFor('typing');
      }),
      'v1',
      undefined,
      env,
    );
    const elapsed = Date.now() - started;
    expect(r).toMatchObject({
      id: 'MSG-TEXT-950',
      variant: 'v1',
      profile: 'signal-x3dh',
      level: 'MUST',
      requirements: ['REQ-MSG-001'],
      outcome: 'PASS',
      findings: [],
      steps: [],
      notes: [],
    });
    expect(r).not.toHaveProperty('reason');
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(r.durationMs).toBeLessThanOrEqual(elapsed);
    expect(r.evidence.transcript.map((e) => e.kind === 'event' && e.event)).toEqual(['during']);
    expect(r.evidence.events.map((e) => e.type)).toEqual(['typing']);
  });
});

describe('applicability', () => {
  it('runs when the manifest declares every feature, and names only the missing ones otherwise', async () => {
    let ran = 0;
    const needs = (features: Feature[]) =>
      scenario(
        async () => {
          ran += 1;
        },
        { features },
      );
    const { env } = stubEnvironment(['presence']);
    expect((await runScenario(needs(['presence']), 'default', undefined, env)).outcome).toBe('PASS');
    expect(ran).toBe(1);
    const r = await runScenario(needs(['presence', 'send-media']), 'default', undefined, env);
    expect(r.outcome).toBe('NOT_APPLICABLE');
    expect(r.reason).toContain('send-media');
    expect(r.reason).not.toContain('presence');
    expect(ran).toBe(1);
  });

  it('runs only under the crypto profiles it lists', async () => {
    let ran = 0;
    const only = (profiles: ScenarioDefinition['profiles']) =>
      scenario(
        async () => {
          ran += 1;
        },
        { profiles },
      );
    const { env } = stubEnvironment();
    const r = await runScenario(only(['signal-pqxdh']), 'default', undefined, env);
    expect(r.outcome).toBe('NOT_APPLICABLE');
    expect(r.reason).toContain('signal-pqxdh');
    expect(ran).toBe(0);
    expect((await runScenario(only(['signal-x3dh']), 'default', undefined, env)).outcome).toBe('PASS');
    expect(ran).toBe(1);
  });
});

describe('checks and steps', () => {
  it('must and should return whether the check held, and record only failures', async () => {
    const { env } = stubEnvironment();
    const returned: boolean[] = [];
    const r = await runScenario(
      scenario(async (ctx) => {
        returned.push(ctx.must(true, 'VIO_RCPT_MISSING', 'held'));
        returned.push(ctx.should(true, 'VIO_RCPT_MISSING', 'held'));
        returned.push(ctx.should(false, 'VIO_RCPT_MISSING', 'late receipt'));
      }),
      'default',
      undefined,
      env,
    );
    expect(returned).toEqual([true, true, false]);
    expect(r.outcome).toBe('NON_STRICT');
    expect(r.findings.map((f) => [f.level, f.message])).toEqual([['SHOULD', 'late receipt']]);
  });

  it('a finding names the step it was made in, the step before it, or the setup', async () => {
    const { env } = stubEnvironment();
    const r = await runScenario(
      scenario(async (ctx) => {
        ctx.must(false, 'VIO_RCPT_MISSING', 'before');
        await ctx.step('outer', async () => {
          await ctx.step('inner', () => ctx.must(false, 'VIO_RCPT_MISSING', 'in inner'));
          ctx.must(false, 'VIO_RCPT_MISSING', 'back in outer');
        });
        ctx.must(false, 'VIO_RCPT_MISSING', 'after');
      }),
      'default',
      undefined,
      env,
    );
    expect(r.findings.map((f) => f.step)).toEqual(['(setup)', 'inner', 'outer', 'after: outer']);
    expect(r.steps.map((s) => [s.label, s.status])).toEqual([
      ['outer', 'failed'],
      ['inner', 'failed'],
    ]);
  });

  it('a step records how long it took', async () => {
    const { env } = stubEnvironment();
    const r = await runScenario(
      scenario(async (ctx) => {
        await ctx.step('wait', () => new Promise((resolve) => setTimeout(resolve, 30)));
      }),
      'default',
      undefined,
      env,
    );
    const [s] = r.steps;
    expect(s?.durationMs).toBeGreaterThanOrEqual(25);
    expect(s?.durationMs).toBeLessThanOrEqual(r.durationMs);
  });

  it('a step that throws is marked error with the message, and the scenario is an ERROR', async () => {
    const { env } = stubEnvironment();
    let after = false;
    const r = await runScenario(
      scenario(async (ctx) => {
        await ctx.step('explode', () => {
          throw new Error('boom');
        });
        after = true;
      }),
      'default',
      undefined,
      env,
    );
    expect(r.steps).toMatchObject([{ label: 'explode', status: 'error', error: 'boom' }]);
    expect(r.outcome).toBe('ERROR');
    expect(after).toBe(false);
  });

  it('demand stops the scenario on failure with its finding, and lets it go on otherwise', async () => {
    const { env } = stubEnvironment();
    const reached: string[] = [];
    const r = await runScenario(
      scenario(async (ctx) => {
        ctx.demand(true, 'VIO_RCPT_MISSING', 'holds');
        reached.push('after a demand that held');
        ctx.demand(false, 'VIO_E2EE_REPLAY_ACCEPTED', 'replay shown', 'REQ-E2EE-001');
        reached.push('after a demand that failed');
      }),
      'default',
      undefined,
      env,
    );
    expect(reached).toEqual(['after a demand that held']);
    expect(r.outcome).toBe('FAIL');
    expect(r.reason).toContain('replay shown');
    expect(r.findings).toMatchObject([
      { level: 'MUST', code: 'VIO_E2EE_REPLAY_ACCEPTED', requirement: 'REQ-E2EE-001' },
    ]);
  });

  it('notes are kept in order without grading anything', async () => {
    const { env } = stubEnvironment();
    const r = await runScenario(
      scenario(async (ctx) => {
        ctx.note('latency', { ms: 12 });
        ctx.note('codec', 'opus');
      }),
      'default',
      undefined,
      env,
    );
    expect(r.outcome).toBe('PASS');
    expect(r.notes).toEqual([
      { label: 'latency', data: { ms: 12 } },
      { label: 'codec', data: 'opus' },
    ]);
  });
});

describe('endings', () => {
  const ending = async (run: Run, more: Partial<ScenarioDefinition> = {}) => {
    const { env } = stubEnvironment();
    return runScenario(scenario(run, more), 'default', undefined, env);
  };

  it('a scenario that outlives its time is TIMEOUT, and says which scenario ran out', async () => {
    const r = await ending(never, { timeoutMs: 50 });
    expect(r.outcome).toBe('TIMEOUT');
    expect(r.reason).toMatch(/^TIMEOUT/);
    expect(r.reason).toContain('MSG-TEXT-950');
  });

  it('a MUST broken before the silence decides it: FAIL, not TIMEOUT', async () => {
    const r = await ending(
      async (ctx) => {
        ctx.should(false, 'VIO_RCPT_MISSING', 'soft');
        ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'hard');
        await never();
      },
      { timeoutMs: 50 },
    );
    expect(r.outcome).toBe('FAIL');
    const soft = await ending(
      async (ctx) => {
        ctx.should(false, 'VIO_RCPT_MISSING', 'soft');
        await never();
      },
      { timeoutMs: 50 },
    );
    expect(soft.outcome).toBe('TIMEOUT');
  });

  it('a wait that ran out elsewhere (a peer iq, a driver) is TIMEOUT too', async () => {
    const r = await ending(async () => {
      throw new Error('TIMEOUT: no answer to iq encrypt 7 within 5000 ms');
    });
    expect(r.outcome).toBe('TIMEOUT');
    expect(r.reason).toContain('no answer to iq');
    // The code leads the message; a message that merely mentions a timeout is a harness error.
    const other = await ending(async () => {
      throw new Error('the driver reported TIMEOUT');
    });
    expect(other.outcome).toBe('ERROR');
  });

  it('anything else thrown is an ERROR of the harness, never the candidate’s FAIL', async () => {
    const plain = await ending(async (ctx) => {
      ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', 'already failing');
      throw new TypeError('x is undefined');
    });
    expect(plain.outcome).toBe('ERROR');
    expect(plain.reason).toMatch(/^HRN_ERR_INTERNAL: /);
    expect(plain.reason).toContain('x is undefined');
    const coded = await ending(async () => {
      throw new HarnessError('HRN_ERR_DRIVER_UNREACHABLE', 'driver gone');
    });
    expect(coded).toMatchObject({ outcome: 'ERROR', reason: 'HRN_ERR_DRIVER_UNREACHABLE: driver gone' });
    const notAnError = await ending(async () => {
      throw 'a string';
    });
    expect(notAnError.outcome).toBe('ERROR');
    expect(notAnError.reason).toContain('a string');
    const nothing = await ending(() => Promise.reject());
    expect(nothing.outcome).toBe('ERROR');
    expect(nothing.reason).toMatch(/^HRN_ERR_INTERNAL/);
  });
});

describe('peers', () => {
  it('are closed when the scenario ends, however it ends', async () => {
    for (const run of [async () => undefined, async () => Promise.reject(new Error('x'))] as const) {
      const { env, peers } = stubEnvironment();
      await runScenario(
        scenario(async (ctx) => {
          await ctx.peer();
          await ctx.peer({ name: 'Bob' });
          await run();
        }),
        'default',
        undefined,
        env,
      );
      expect(peers.map((p) => p.closed)).toEqual([true, true]);
    }
  });

  it('a peer that failed inside makes the run an ERROR that says so', async () => {
    const { env, peers } = stubEnvironment();
    const r = await runScenario(
      scenario(async (ctx) => {
        await ctx.peer();
        peers[0]?.errors.push(new Error('could not decrypt the candidate’s reply'));
      }),
      'default',
      undefined,
      env,
    );
    expect(r.outcome).toBe('ERROR');
    expect(r.reason).toMatch(/^HRN_ERR_INTERNAL/);
    expect(r.reason).toContain('could not decrypt');
  });
});

describe('fence', () => {
  it('returns only once the candidate shows the fence message itself, a showable text', async () => {
    const { env, peers } = stubEnvironment();
    let shownAtFence: string[] = [];
    const r = await runScenario(
      scenario(async (ctx) => {
        const alice = await ctx.peer();
        const stub = peers[0];
        if (!stub) throw new Error('no peer');
        // Something else arrives first: the fence must not take it for its own message.
        stub.onSend = (id) => [
          { type: 'message-received', id: 'earlier', from: 'peer', content: { type: 'text' } },
          { type: 'message-received', id, from: 'peer', content: { type: 'text' } },
        ];
        await ctx.fence(alice);
        shownAtFence = ctx.candidate.events.of('message-received').map((e) => e.id);
      }),
      'default',
      undefined,
      env,
    );
    expect(r.outcome).toBe('PASS');
    expect(shownAtFence).toEqual(['earlier', 'M1']);
    const [what] = peers[0]?.sent ?? [];
    expect(what).toMatchObject({ type: 'text' });
    expect((what as { text: string }).text).not.toBe('');
  });
});
