import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { child } from '../../../harness/xml/node.ts';
import { candidateSent } from '../../rcpt/wire.ts';

/** The item of a blocklist set iq, if the node is one. */
function blocklistItem(node: StanzaNode): StanzaNode | undefined {
  if (node.tag !== 'iq' || node.attrs.xmlns !== 'blocklist' || node.attrs.type !== 'set') return undefined;
  return child(node, 'item');
}

export default defineScenario({
  id: 'BLOCK-SET-001',
  title: 'Blocking and unblocking go to the server: the blocked contact is cut off, then heard again',
  requirements: ['REQ-BLOCK-002'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const alice = await ctx.peer();
    await ctx.step('a message from the contact is shown', async () => {
      const m = await alice.send(ctx.candidate.jid, { type: 'text', text: 'before' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
    });
    const sentChange = (since: number, action: string) =>
      candidateSent(ctx, since, 'iq').some((f) => {
        const item = blocklistItem(f.node);
        return item?.attrs.jid === alice.jid && item.attrs.action === action;
      });
    let seq = ctx.server.transcript.seq;
    // The driver answers once the server has confirmed the change: the iq is on the wire.
    await ctx.step('the user blocks the contact', () => ctx.candidate.driver.block({ jid: alice.jid }));
    ctx.must(sentChange(seq, 'block'), 'VIO_BLOCK_NOT_SENT', 'no blocklist set with action="block"');
    seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    const m = await ctx.step('the contact writes while blocked', async () => {
      const sent = await alice.send(ctx.candidate.jid, { type: 'text', text: 'while blocked' });
      await sent.ack;
      return sent;
    });
    const dropped = ctx.server.transcript
      .slice(seq)
      .some((e) => e.kind === 'event' && e.event === 'dropped-blocked' && e.detail?.id === m.id);
    ctx.must(dropped, 'VIO_BLOCK_NOT_SENT', 'the server did not hold the block: the message was routed');
    seq = ctx.server.transcript.seq;
    await ctx.step('the user unblocks the contact', () => ctx.candidate.driver.unblock({ jid: alice.jid }));
    ctx.must(sentChange(seq, 'unblock'), 'VIO_BLOCK_NOT_SENT', 'no blocklist set with action="unblock"');
    await ctx.step('the contact is heard again', () => ctx.fence(alice));
    ctx.must(
      !ctx.candidate.events.of('message-received', since).some((e) => e.id === m.id),
      'VIO_BLOCK_SHOWN',
      'the message sent while blocked was shown',
    );
  },
});
