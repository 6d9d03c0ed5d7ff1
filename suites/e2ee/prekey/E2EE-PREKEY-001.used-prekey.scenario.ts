import { defineScenario } from '../../../harness/scenario/define.ts';
import { shownOrRejected } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-PREKEY-001',
  title: 'A second first message naming an already used one-time prekey is refused',
  requirements: ['REQ-E2EE-016', 'REQ-E2EE-017'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const requirement = ctx.profile === 'signal-pqxdh' ? 'REQ-E2EE-017' : 'REQ-E2EE-016';
    const alice = await ctx.peer();
    const bundle = await ctx.step("the contact fetches the candidate's bundle", () =>
      alice.fetchBundle(ctx.candidate.jid),
    );
    ctx.demand(
      bundle.preKey !== undefined,
      'VIO_KEYS_REFUSED',
      'the bundle has no one-time prekey',
      requirement,
    );
    await ctx.step('a first message using the one-time prekey', async () => {
      const ok = await alice.identity.processBundle(ctx.candidate.jid, bundle);
      ctx.demand(ok.ok, 'VIO_KEYS_REFUSED', 'the bundle does not verify', requirement);
      const m = await alice.send(ctx.candidate.jid, { type: 'text', text: 'first' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
    });
    const since = ctx.candidate.events.cursor;
    const again = await ctx.step(
      'another first message from the same bundle, with a new base key',
      async () => {
        await alice.identity.deleteSession(ctx.candidate.jid);
        await alice.identity.processBundle(ctx.candidate.jid, bundle);
        return alice.send(ctx.candidate.jid, { type: 'text', text: 'second, same prekey' });
      },
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, again.id, since));
    ctx.must(
      !outcome.shown,
      'VIO_E2EE_PREKEY_REUSE_ACCEPTED',
      `a first message naming used one-time prekey ${bundle.preKey?.id} was shown`,
      requirement,
    );
    if (!outcome.shown) {
      ctx.must(
        outcome.event.reason === 'missing-prekey',
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as missing-prekey`,
        requirement,
      );
      // The retry receipt brings the message on a fresh session (the Kyber prekey is last-resort).
      await ctx.step('a retry brings it on a fresh session', () =>
        ctx.candidate.events.waitFor('message-received', (e) => e.id === again.id, { since }),
      );
    }
  },
});
