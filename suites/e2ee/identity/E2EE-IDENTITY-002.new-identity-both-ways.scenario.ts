import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentMessages, untilWire } from '../../e2ee/wire.ts';

interface V {
  readonly first: 'contact' | 'candidate';
}

export default defineScenario<V>({
  id: 'E2EE-IDENTITY-002',
  title:
    "After a contact's identity changes the candidate shows a notice and encrypts only to the new identity",
  requirements: ['REQ-E2EE-010', 'REQ-E2EE-011'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'contact-writes-first': { first: 'contact' },
    'candidate-writes-first': { first: 'candidate' },
  },
  async run(ctx) {
    const alice = await ctx.peer();
    const carol = await ctx.peer();
    await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    const reinstalled = await ctx.step('the contact reinstalls: new keys, same address', () =>
      ctx.server.attachPeer({
        jid: alice.jid,
        profile: ctx.peerProfile,
        seed: `${ctx.id}/${ctx.variantName}/reinstalled`,
        preKeyCount: 10,
      }),
    );
    if (ctx.variant.first === 'contact') {
      // The notice comes before or with the first message under the new identity.
      await ctx.step('a message under the new identity', () => ctx.fence(reinstalled));
    } else {
      // The identity notification reached the candidate before a later message from anyone.
      await ctx.step('a fence from another contact', () => ctx.fence(carol));
    }
    const notice = ctx.candidate.events.of('security-notice', since).find((e) => e.jid === alice.jid);
    ctx.must(
      notice !== undefined,
      'VIO_E2EE_NO_SECURITY_NOTICE',
      'no security notice for the new identity',
      'REQ-E2EE-010',
    );
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate writes to the contact', () =>
      ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: 'to the new identity' } }),
    );
    await ctx.step('it reaches the server', () =>
      untilWire(() => sentMessages(ctx, seq, alice.jid).some((m) => m.id === id)),
    );
    const first = sentMessages(ctx, seq, alice.jid).find((m) => m.id === id);
    if (ctx.variant.first === 'candidate') {
      ctx.must(
        first?.ct?.type === 'pkmsg',
        'VIO_E2EE_OLD_SESSION_KEPT',
        `the first message after the change went as ${first?.ct?.type}: the old session was kept`,
        'REQ-E2EE-011',
      );
    }
    const got = await ctx.step('the new identity decrypts it', () =>
      reinstalled.events.waitFor('message', (e) => e.id === id),
    );
    ctx.must(
      got.retryCount === undefined && !reinstalled.events.of('message-rejected').some((e) => e.id === id),
      'VIO_E2EE_OLD_SESSION_KEPT',
      'the candidate first encrypted to the old identity (the new one had to ask again)',
      'REQ-E2EE-011',
    );
    reinstalled.close();
  },
});
