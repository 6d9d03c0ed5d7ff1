import { defineScenario } from '../../../harness/scenario/define.ts';

/** The profile's deadline for the top-up (PROFILE.md §5.3). */
const TOP_UP_DEADLINE_MS = 10_000;

export default defineScenario({
  id: 'KEYS-TOPUP-001',
  title: 'After the low-prekey notification the candidate uploads new one-time prekeys in time',
  requirements: ['REQ-KEYS-002'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: TOP_UP_DEADLINE_MS + 5_000,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const seq = ctx.server.transcript.seq;
    const removed = await ctx.step('every one-time prekey of the candidate is handed out', () =>
      ctx.server.core.exhaustPreKeys(jid),
    );
    ctx.note('one-time prekeys handed out', removed);
    await ctx.step('the server sends the low-prekey notification (count 0)', () =>
      ctx.server.core.forceLowPreKeys(jid),
    );
    const uploaded = await ctx.step('the candidate uploads new one-time prekeys', async () => {
      const deadline = Date.now() + TOP_UP_DEADLINE_MS;
      while (Date.now() < deadline) {
        const up = ctx.server.transcript
          .slice(seq)
          .find((e) => e.kind === 'event' && e.event === 'keys-uploaded' && e.address === jid);
        if (up) return up;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    });
    ctx.must(
      uploaded !== undefined,
      'VIO_KEYS_NO_TOP_UP',
      `no accepted key upload within ${TOP_UP_DEADLINE_MS / 1000} s of the low-prekey notification`,
    );
    const count = ctx.server.core.directory.count(jid);
    ctx.note('one-time prekeys after the top-up', count);
    ctx.must(
      uploaded === undefined || count >= 5,
      'VIO_KEYS_NO_TOP_UP',
      `after the top-up the directory holds ${count} one-time prekeys, still low`,
    );
  },
});
