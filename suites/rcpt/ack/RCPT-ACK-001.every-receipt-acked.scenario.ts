import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { awaitSent, candidateSent, framesSince } from '../wire.ts';

type Kind = 'delivery' | 'read' | 'read-list' | 'played' | 'unknown-id';

export default defineScenario<{ kind: Kind }>({
  id: 'RCPT-ACK-001',
  title: 'Every receipt the candidate receives is acked with its id and type',
  requirements: ['REQ-RCPT-007'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    delivery: { kind: 'delivery' },
    read: { kind: 'read' },
    'read-list': { kind: 'read-list' },
    played: { kind: 'played' },
    'unknown-id': { kind: 'unknown-id' },
  },
  async run(ctx) {
    const bob = await ctx.peer();
    const kind = ctx.variant.kind;
    const ids: string[] = [];
    const seq = ctx.server.transcript.seq;
    await ctx.step('the candidate sends messages the contact receives', async () => {
      for (let i = 0; i < (kind === 'read-list' ? 3 : 1); i++) {
        const { id } = await ctx.candidate.driver.send({
          to: bob.jid,
          content: { type: 'text', text: `ack ${i}` },
        });
        await bob.events.waitFor('message', (e) => e.id === id);
        ids.push(id);
      }
    });
    const type = kind === 'delivery' ? undefined : kind === 'played' ? 'played' : 'read';
    const after = kind === 'delivery' ? seq : ctx.server.transcript.seq;
    await ctx.step(`the contact sends a ${kind} receipt`, () => {
      if (kind === 'read' || kind === 'read-list') bob.markRead(ctx.candidate.jid, ids);
      else if (kind === 'played') bob.markPlayed(ctx.candidate.jid, ids);
      else if (kind === 'unknown-id') bob.markRead(ctx.candidate.jid, ['3EB0C0FFEE00000000000001']);
    });
    await ctx.step('a fence message from the same contact', () => ctx.fence(bob));
    const delivered = framesSince(ctx, after, {
      direction: 's2c',
      address: ctx.candidate.jid,
      tag: 'receipt',
    }).filter((f) => f.node.attrs.from === bob.jid && f.node.attrs.type === type);
    ctx.demand(delivered.length > 0, 'VIO_RCPT_MISSING', 'no receipt reached the candidate (harness setup)');
    for (const r of delivered) {
      const id = r.node.attrs.id ?? '';
      // A delivery and a read receipt can share an id: the ack that echoes the type is this one's.
      const isAck = (n: StanzaNode) => n.tag === 'ack' && n.attrs.class === 'receipt' && n.attrs.id === id;
      const ack = await ctx.step(`the candidate acks receipt ${id}`, () =>
        awaitSent(ctx, r.seq, (f) => isAck(f.node) && f.node.attrs.type === type),
      );
      if (ack === undefined) {
        const other = candidateSent(ctx, r.seq, 'ack').find((f) => isAck(f.node));
        ctx.must(
          false,
          other ? 'VIO_RCPT_WRONG_ID' : 'VIO_RCPT_MISSING',
          other
            ? `the ack of a ${type ?? 'delivery'} receipt carries type ${other.node.attrs.type ?? '(none)'}`
            : `receipt ${id} was never acked`,
        );
      }
    }
  },
});
