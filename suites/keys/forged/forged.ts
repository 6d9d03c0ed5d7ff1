// The shared body of the forged-bundle scenarios: a peer's published bundle carries a signature
// that does not verify, and the candidate is asked to write to that peer first.

import { WaitTimeout } from '../../../harness/peers/events.ts';
import type { ScenarioContext } from '../../../harness/scenario/context.ts';
import { candidateSent } from '../../../harness/scenario/wire.ts';

type Which = 'signed-prekey' | 'kyber-prekey';

/** How long the candidate has to report the send it was asked for, as sent or as failed. */
const REPORT_MS = 10_000;

export async function refusesForgedBundle<V>(
  ctx: ScenarioContext<V>,
  which: Which,
  requirement: 'REQ-KEYS-006' | 'REQ-KEYS-007',
): Promise<void> {
  const bob = await ctx.peer();
  const forged = await ctx.step(`the server forges the ${which} signature of the peer's bundle`, () =>
    ctx.server.core.forgeBundleSignature(bob.jid, which),
  );
  if (!forged) throw new Error(`the peer has no ${which} to forge (setup)`);
  const seq = ctx.server.transcript.seq;
  const since = ctx.candidate.events.cursor;
  const { id } = await ctx.step('the candidate is asked to send its first message to the peer', () =>
    ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'to a forged bundle' } }),
  );
  const report = await ctx.step('the candidate reports the send as failed', async () => {
    const failed = ctx.candidate.events.waitFor('send-failed', (e) => e.id === id, {
      since,
      timeoutMs: REPORT_MS,
    });
    const sent = ctx.candidate.events.waitFor('message-sent', (e) => e.id === id, {
      since,
      timeoutMs: REPORT_MS,
    });
    try {
      return await Promise.race([failed, sent]);
    } catch (e) {
      if (e instanceof WaitTimeout) return undefined;
      throw e;
    } finally {
      failed.catch(() => undefined);
      sent.catch(() => undefined);
    }
  });
  ctx.note('report', report ?? null);
  // The report (or its absence after REPORT_MS) is the fence: whatever the candidate wrote for
  // this send is in the transcript by now.
  const toBob = candidateSent(ctx, seq, 'message').filter((f) => f.node.attrs.to === bob.jid);
  ctx.must(
    toBob.length === 0,
    'VIO_KEYS_FORGED_BUNDLE_USED',
    `the candidate sent ${toBob.length} message(s) encrypted to a bundle whose ${which} signature does not verify`,
    requirement,
  );
  ctx.must(
    report?.type === 'send-failed',
    'VIO_KEYS_FORGED_BUNDLE_USED',
    report
      ? 'the candidate reported the message as sent'
      : `the candidate reported nothing about the send within ${REPORT_MS / 1000} s`,
    requirement,
  );
}
