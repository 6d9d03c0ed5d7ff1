import { defineScenario } from '../../../harness/scenario/define.ts';

export default defineScenario({
  id: 'MSG-REACTION-001',
  title: "A contact's reaction is shown on the message it names, replaced by a newer one, then removed",
  requirements: ['REQ-MSG-015', 'REQ-MSG-017'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'on-candidate-message': { onOwn: false },
    'on-contact-message': { onOwn: true },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const jid = ctx.candidate.jid;
    const onOwn = ctx.variant.onOwn;
    const target = await ctx.step('the message to react to', async () => {
      if (!onOwn) {
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'react to me' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
        return id;
      }
      const m = await alice.send(jid, { type: 'text', text: 'reacting to myself' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return m.id;
    });
    for (const emoji of ['👍', '❤️']) {
      const r = await ctx.step(`the contact reacts ${emoji}`, () =>
        alice.send(jid, { type: 'reaction', targetId: target, fromMe: onOwn, emoji }),
      );
      const shown = await ctx.step('the candidate shows it', () =>
        ctx.candidate.events.waitFor('message-received', (e) => e.id === r.id),
      );
      const c = shown.content;
      ctx.must(c.type === 'reaction', 'VIO_MSG_CONTENT_MISMATCH', `shown as ${c.type}`, 'REQ-MSG-015');
      ctx.must(
        c.emoji === emoji,
        'VIO_MSG_CONTENT_MISMATCH',
        `emoji shown as ${c.emoji ?? '(none)'}`,
        'REQ-MSG-015',
      );
      ctx.must(
        c.targetId === target,
        'VIO_MSG_CONTENT_MISMATCH',
        `shown on ${c.targetId ?? '(nothing)'} instead of ${target}`,
        'REQ-MSG-015',
      );
    }
    const revoke = await ctx.step('the contact removes the reaction', () =>
      alice.send(jid, { type: 'reaction-revoke', targetId: target, fromMe: onOwn }),
    );
    const removed = await ctx.step('the candidate removes it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === revoke.id),
    );
    ctx.must(
      removed.content.type === 'reaction-revoke',
      'VIO_MSG_CONTENT_MISMATCH',
      `shown as ${removed.content.type}`,
      'REQ-MSG-017',
    );
    ctx.must(
      removed.content.targetId === target,
      'VIO_MSG_CONTENT_MISMATCH',
      `removed from ${removed.content.targetId ?? '(nothing)'} instead of ${target}`,
      'REQ-MSG-017',
    );
  },
});
