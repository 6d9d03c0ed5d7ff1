import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'MSG-REACTION-002',
  title: "The candidate's reaction and its removal name the reacted-to message exactly",
  requirements: ['REQ-MSG-016', 'REQ-MSG-018'],
  level: 'MUST',
  kind: 'conformance',
  features: ['reactions-send'],
  variants: {
    'on-contact-message': { onOwn: false },
    'on-own-message': { onOwn: true },
  } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const jid = ctx.candidate.jid;
    const onOwn = ctx.variant.onOwn;
    const target = await ctx.step('the message to react to', async () => {
      if (onOwn) {
        const { id } = await ctx.candidate.driver.send({
          to: bob.jid,
          content: { type: 'text', text: 'mine' },
        });
        await bob.events.waitFor('message', (e) => e.id === id);
        return id;
      }
      const m = await bob.send(jid, { type: 'text', text: 'react to this' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return m.id;
    });
    const seq = ctx.server.transcript.seq;
    const emoji = '🎉';
    const r = await ctx.step('the user reacts', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'reaction', targetId: target, emoji } }),
    );
    const got = await ctx.step('the WhatsApp user decrypts the reaction', () =>
      bob.events.waitFor('message', (e) => e.id === r.id),
    );
    const c = got.content;
    if (c.type !== 'reaction') {
      ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', `decrypted as ${c.type}`, 'REQ-MSG-016');
    } else {
      ctx.must(c.emoji === emoji, 'VIO_MSG_CONTENT_MISMATCH', `emoji ${c.emoji}`, 'REQ-MSG-016');
      ctx.must(c.targetId === target, 'VIO_MSG_CONTENT_MISMATCH', `key id ${c.targetId}`, 'REQ-MSG-016');
      ctx.must(c.fromMe === onOwn, 'VIO_MSG_CONTENT_MISMATCH', `key fromMe ${c.fromMe}`, 'REQ-MSG-016');
      ctx.must(
        c.targetJid === bob.jid,
        'VIO_MSG_CONTENT_MISMATCH',
        `key remoteJid ${c.targetJid}`,
        'REQ-MSG-016',
      );
      ctx.must(c.senderTimestampMs > 0, 'VIO_MSG_CONTENT_MISMATCH', 'no senderTimestampMs', 'REQ-MSG-016');
    }
    const stanza = candidateSent(ctx, seq, 'message').find((f) => f.node.attrs.id === r.id);
    ctx.must(
      stanza?.node.attrs.type === 'reaction',
      'VIO_MSG_MEDIATYPE_MISMATCH',
      `reaction sent with stanza type ${stanza?.node.attrs.type ?? '(none)'}`,
      'REQ-MSG-016',
    );
    const x = await ctx.step('the user removes the reaction', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'reaction-revoke', targetId: target } }),
    );
    const gone = await ctx.step('the WhatsApp user decrypts the removal', () =>
      bob.events.waitFor('message', (e) => e.id === x.id),
    );
    const g = gone.content;
    if (g.type !== 'reaction-revoke') {
      ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', `decrypted as ${g.type}`, 'REQ-MSG-018');
      return;
    }
    ctx.must(
      g.targetId === target && g.fromMe === onOwn && g.targetJid === bob.jid,
      'VIO_MSG_CONTENT_MISMATCH',
      `the removal's key (${g.targetJid}, ${g.fromMe}, ${g.targetId}) is not the reaction's`,
      'REQ-MSG-018',
    );
  },
});
