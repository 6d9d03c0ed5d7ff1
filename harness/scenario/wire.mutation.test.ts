// The transcript reader scenarios decide on: which frames it returns for a filter, and the
// grace poll for a frame the server records a moment after the driver answered.

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../server/clock.ts';
import type { RunningServer } from '../server/server.ts';
import { Transcript } from '../server/transcript.ts';
import type { ScenarioContext } from './context.ts';
import { candidateSent, framesSince, pollUntil } from './wire.ts';

const CANDIDATE = '10853634039893-1@interop';
const PEER = '491700000001@s.whatsapp.net';

function wire() {
  const transcript = new Transcript(new VirtualClock({ frozen: true }));
  const ctx = {
    server: { transcript } as unknown as RunningServer,
    candidate: { jid: CANDIDATE },
  } as unknown as ScenarioContext<unknown>;
  const frame = (direction: 'c2s' | 's2c', address: string | undefined, stanza: string) =>
    transcript.frame({
      direction,
      connection: 'c1',
      ...(address === undefined ? {} : { address }),
      stanza,
      bytes: stanza.length,
      violations: [],
    }).seq;
  return { ctx, transcript, frame };
}

const summary = (frames: ReturnType<typeof framesSince>) =>
  frames.map((f) => `${f.seq} ${f.direction} ${f.address ?? '-'} ${f.node.tag}`);

describe('framesSince', () => {
  it('returns the frames after a position, parsed, skipping events and frames that did not parse', () => {
    const { ctx, transcript, frame } = wire();
    const before = frame('c2s', CANDIDATE, '<presence type="available"/>');
    transcript.event({ event: 'login', address: CANDIDATE });
    frame('c2s', CANDIDATE, '<iq id="1"');
    frame('s2c', PEER, '<message id="A" from="x"><enc/></message>');
    expect(summary(framesSince(ctx, before))).toEqual([`4 s2c ${PEER} message`]);
    expect(summary(framesSince(ctx, 0))).toEqual([`1 c2s ${CANDIDATE} presence`, `4 s2c ${PEER} message`]);
    const [m] = framesSince(ctx, before);
    expect(m?.node.attrs.id).toBe('A');
  });

  it('filters by direction, by the connection’s address, and by tag', () => {
    const { ctx, frame } = wire();
    frame('c2s', CANDIDATE, '<message id="1"/>');
    frame('c2s', PEER, '<message id="2"/>');
    frame('s2c', CANDIDATE, '<message id="3"/>');
    frame('c2s', CANDIDATE, '<receipt id="4"/>');
    frame('c2s', undefined, '<message id="5"/>');
    const ids = (filter: Parameters<typeof framesSince>[2]) =>
      framesSince(ctx, 0, filter).map((f) => f.node.attrs.id);
    expect(ids({})).toEqual(['1', '2', '3', '4', '5']);
    expect(ids({ direction: 'c2s' })).toEqual(['1', '2', '4', '5']);
    expect(ids({ direction: 's2c' })).toEqual(['3']);
    expect(ids({ address: CANDIDATE })).toEqual(['1', '3', '4']);
    expect(ids({ tag: 'receipt' })).toEqual(['4']);
    expect(ids({ direction: 'c2s', address: CANDIDATE, tag: 'message' })).toEqual(['1']);
  });

  it('matches the tag exactly, not a longer tag that starts the same', () => {
    const { ctx, frame } = wire();
    frame('c2s', CANDIDATE, '<iq id="1"/>');
    frame('c2s', CANDIDATE, '<iqx id="2"/>');
    expect(framesSince(ctx, 0, { tag: 'iq' }).map((f) => f.node.attrs.id)).toEqual(['1']);
  });
});

describe('candidateSent', () => {
  it('is what the candidate’s own connection sent, of one tag or of any', () => {
    const { ctx, frame } = wire();
    const start = frame('c2s', CANDIDATE, '<message id="0"/>');
    frame('c2s', CANDIDATE, '<message id="1"/>');
    frame('s2c', CANDIDATE, '<message id="2"/>');
    frame('c2s', PEER, '<message id="3"/>');
    frame('c2s', CANDIDATE, '<receipt id="4"/>');
    expect(candidateSent(ctx, start).map((f) => f.node.attrs.id)).toEqual(['1', '4']);
    expect(candidateSent(ctx, start, 'receipt').map((f) => f.node.attrs.id)).toEqual(['4']);
  });
});

describe('pollUntil', () => {
  it('holds at once when the condition already holds', async () => {
    let calls = 0;
    expect(
      await pollUntil(() => {
        calls += 1;
        return true;
      }, 0),
    ).toBe(true);
    expect(calls).toBe(1);
  });

  it('waits for a condition that comes to hold within the grace', async () => {
    const ready = Date.now() + 40;
    expect(await pollUntil(() => Date.now() >= ready, 1000)).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(ready);
  });

  it('gives up once the grace has passed, not before', async () => {
    const started = Date.now();
    expect(await pollUntil(() => false, 60)).toBe(false);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(55);
    expect(waited).toBeLessThan(1000);
  });
});
