import { defineScenario } from '../../../harness/scenario/define.ts';

// PQXDH §3.3 with the profile's rule (§6): every bundle carries the peer's last-resort Kyber
// prekey, the same one for every contact until it rotates. The candidate must build its session
// on it although another user's session already used it, and also when no one-time prekey is
// left.
export default defineScenario({
  id: 'KEYS-KYBER-001',
  title: "The candidate starts a session on a peer's last-resort Kyber prekey that another user already used",
  requirements: ['REQ-KEYS-009'],
  level: 'MUST',
  kind: 'conformance',
  profiles: ['signal-pqxdh'],
  variants: {
    'with-one-time-prekey': { exhaust: false },
    'no-one-time-prekey': { exhaust: true },
  } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const carol = await ctx.peer();
    const kyberId = ctx.server.core.directory.get(bob.jid)?.kyberPreKey?.id;
    ctx.demand(
      kyberId !== undefined,
      'VIO_KEYS_KYBER_FALLBACK_FAILED',
      'the peer published no Kyber prekey (setup)',
    );
    await ctx.step("another WhatsApp user starts a session on the peer's Kyber prekey", async () => {
      const sent = await carol.send(bob.jid, { type: 'text', text: 'carol first' });
      await bob.events.waitFor('message', (e) => e.id === sent.id);
    });
    if (ctx.variant.exhaust) {
      await ctx.step('every one-time prekey of the peer is handed out', () =>
        ctx.server.core.exhaustPreKeys(bob.jid),
      );
    }
    ctx.must(
      ctx.server.core.directory.get(bob.jid)?.kyberPreKey?.id === kyberId,
      'VIO_KEYS_KYBER_FALLBACK_FAILED',
      "the peer's Kyber prekey changed during setup (harness)",
    );
    const since = ctx.candidate.events.cursor;
    const { id } = await ctx.step('the candidate sends its first message to the peer', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'on the last resort' } }),
    );
    const got = await ctx.step('the peer decrypts it', async () => {
      const failed = ctx.candidate.events
        .waitFor('send-failed', (e) => e.id === id, { since, timeoutMs: 10_000 })
        .then((e) => ({ failed: e.reason }));
      const shown = bob.events.waitFor('message', (e) => e.id === id).then((m) => ({ message: m }));
      failed.catch(() => undefined);
      return Promise.race([failed, shown]);
    });
    ctx.demand(
      'message' in got,
      'VIO_KEYS_KYBER_FALLBACK_FAILED',
      `the candidate could not send: ${'failed' in got ? got.failed : ''}`,
    );
    ctx.must(
      'message' in got &&
        got.message.content.type === 'text' &&
        got.message.content.text === 'on the last resort',
      'VIO_MSG_CONTENT_MISMATCH',
      'the peer decrypted other content',
    );
  },
});
