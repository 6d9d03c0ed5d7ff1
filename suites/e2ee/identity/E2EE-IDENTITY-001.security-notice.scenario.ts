import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'E2EE-IDENTITY-001',
  title: "A contact's new identity raises a security notice before its messages are shown",
  requirements: ['REQ-E2EE-010', 'REQ-E2EE-011'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const alice = await ctx.peer();
    await ctx.step('a conversation under the old identity', async () => {
      const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'before' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'reply' },
      });
      await alice.events.waitFor('message', (e) => e.id === id);
    });
    const since = ctx.candidate.events.cursor;
    const reinstalled = await ctx.step('the contact reinstalls: new keys, same address', () =>
      ctx.server.attachPeer({
        jid: alice.jid,
        profile: ctx.peerProfile,
        seed: `${ctx.id}/reinstalled`,
        preKeyCount: 10,
      }),
    );
    const m = await ctx.step('a message under the new identity', () =>
      reinstalled.send(ctx.candidate.jid, { type: 'text', text: 'after' }),
    );
    const shown = await ctx.step('the candidate shows it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id, { since }),
    );
    const notice = ctx.candidate.events.of('security-notice', since).find((e) => e.jid === alice.jid);
    ctx.must(notice !== undefined, 'VIO_E2EE_NO_SECURITY_NOTICE', 'no security notice for the new identity');
    ctx.must(
      notice === undefined || notice.seq < shown.seq,
      'VIO_E2EE_NO_SECURITY_NOTICE',
      'the notice came after the message',
    );
    reinstalled.close();
  },
});
