import { defineScenario } from '../../../harness/scenario/define.ts';
import { pollUntil } from '../../../harness/scenario/wire.ts';
import type { EventEntry } from '../../../harness/server/types.ts';

/**
 * How long the candidate has to refuse the frame once its head arrived. The head alone says the
 * frame is too large, so a client that enforces the limit closes at once; the rest of the frame
 * never comes, so a client that buffers whole frames waits for ever.
 */
const REFUSE_MS = 3_000;

export default defineScenario({
  id: 'ROBUST-OVERSIZE-001',
  title:
    'A frame announced over the size limit is refused from its head, without waiting to buffer it, and the candidate comes back',
  requirements: ['REQ-ROBUST-002'],
  level: 'MUST',
  kind: 'robustness',
  timeoutMs: 40_000,
  variants: {
    // Just over the profile's 1 MiB limit (§9.1), and far over it.
    'limit-plus-one': { announced: 1024 * 1024 + 1 },
    '16-mib': { announced: 16 * 1024 * 1024 },
  } as const,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    await ctx.step('a peer has a session with the candidate', () => ctx.fence(alice));
    const seq = ctx.server.transcript.seq;
    const connection = ctx.server.core.connectionOf(jid)?.id;
    const sent = await ctx.step(`the server starts a frame of ${ctx.variant.announced} bytes and stops`, () =>
      ctx.server.core.sendOversizedFrame(jid, ctx.variant.announced),
    );
    if (!sent)
      throw new Error('the server transport cannot write a truncated frame (the run needs WebSocket)');
    const closed = await ctx.step('the candidate closes the connection', async () => {
      let close: EventEntry | undefined;
      await pollUntil(() => {
        close = ctx.server.transcript
          .slice(seq)
          .find(
            (e): e is EventEntry => e.kind === 'event' && e.event === 'close' && e.connection === connection,
          );
        return close !== undefined;
      }, REFUSE_MS);
      return close;
    });
    ctx.note('close', closed?.detail ?? null);
    ctx.must(
      closed !== undefined,
      'VIO_ROBUST_OVERSIZE_BUFFERED',
      `the connection was still open ${REFUSE_MS / 1000} s after the head of an oversized frame`,
    );
    // The harness ends the stuck connection itself, so the fence below tests recovery either way.
    if (!closed) ctx.server.core.cut(jid);
    await ctx.step('the candidate logs in again and shows a fence message', () => ctx.fence(alice));
  },
});
