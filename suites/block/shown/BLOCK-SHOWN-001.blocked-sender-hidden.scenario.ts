import { defineScenario } from '../../../harness/scenario/define.ts';
import { el } from '../../../harness/xml/node.ts';
import { framesSince } from '../../rcpt/wire.ts';

type What = 'message' | 'read-receipt' | 'typing';

export default defineScenario<{ what: What }>({
  id: 'BLOCK-SHOWN-001',
  title: 'A message, receipt or chat state from a blocked contact that still arrives is not shown',
  requirements: ['REQ-BLOCK-003'],
  level: 'MUST',
  kind: 'security',
  variants: {
    message: { what: 'message' },
    'read-receipt': { what: 'read-receipt' },
    typing: { what: 'typing' },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    const bob = await ctx.peer();
    const mine = await ctx.step('a conversation both ways', async () => {
      const a = await alice.send(jid, { type: 'text', text: 'hi' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
      const since = ctx.candidate.events.cursor;
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'hi back' },
      });
      await alice.events.waitFor('message', (e) => e.id === id);
      await ctx.candidate.events.waitFor('receipt-received', (e) => e.ids.includes(id), { since });
      return id;
    });
    // The server drops what a blocked contact sends once the block is in place, so the stanza is
    // routed first and held on its way to the candidate; the block then goes through (its iq
    // answer is not held), and the held stanza arrives from a contact the candidate has blocked.
    ctx.server.core.suspend(jid);
    const seq = ctx.server.transcript.seq;
    const kind = ctx.variant.what;
    await ctx.step(`the contact sends a ${kind}, held by the network`, async () => {
      if (kind === 'message')
        await (await alice.send(jid, { type: 'text', text: 'from a blocked contact' })).ack;
      else if (kind === 'read-receipt') alice.markRead(jid, [mine]);
      else alice.typing(jid, 'composing');
      await alice.iq({ xmlns: 'w:p', type: 'get' }, [el('ping')]);
    });
    const since = ctx.candidate.events.cursor;
    try {
      await ctx.step('the user blocks the contact', () => ctx.candidate.driver.block({ jid: alice.jid }));
    } finally {
      ctx.server.core.resume(jid);
    }
    await ctx.step('a fence message from another contact', () => ctx.fence(bob));
    const tag = kind === 'message' ? 'message' : kind === 'typing' ? 'chatstate' : 'receipt';
    const arrived = framesSince(ctx, seq, { direction: 's2c', address: jid, tag }).some(
      (f) => f.node.attrs.from === alice.jid,
    );
    ctx.demand(arrived, 'VIO_BLOCK_SHOWN', `the held ${kind} never reached the candidate (harness setup)`);
    const shown = ctx.candidate.events
      .all()
      .slice(since)
      .filter(
        (e) =>
          (e.type === 'message-received' && e.from === alice.jid) ||
          (e.type === 'receipt-received' && e.from === alice.jid) ||
          (e.type === 'typing' && e.from === alice.jid),
      );
    ctx.must(
      shown.length === 0,
      'VIO_BLOCK_SHOWN',
      `shown from the blocked contact: ${shown.map((e) => e.type).join(', ')}`,
    );
  },
});
