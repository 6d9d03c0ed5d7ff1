import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes } from '../../../harness/scenario/helpers.ts';
import { awaitSent, candidateSent, receiptIds } from '../wire.ts';

export default defineScenario({
  id: 'RCPT-READ-003',
  title: 'Reading sends read receipts naming exactly the messages read, playing a voice note a played one',
  requirements: ['REQ-RCPT-003', 'REQ-RCPT-005'],
  level: 'MUST',
  kind: 'conformance',
  features: ['read-receipts-send'],
  variants: {
    one: { count: 1, voice: false },
    list: { count: 4, voice: false },
    'voice-played': { count: 1, voice: true },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    const ids: string[] = [];
    await ctx.step(`${ctx.variant.count} messages shown`, async () => {
      for (let i = 0; i < ctx.variant.count; i++) {
        const m = await alice.send(
          ctx.candidate.jid,
          ctx.variant.voice
            ? { type: 'voice', file: fixtureBytes('voice.ogg'), seconds: 3 }
            : { type: 'text', text: `read ${i}` },
        );
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
        ids.push(m.id);
      }
    });
    const seq = ctx.server.transcript.seq;
    const receiptOf = (type: string) => (n: { node: { tag: string; attrs: Record<string, string> } }) =>
      n.node.tag === 'receipt' && n.node.attrs.type === type && n.node.attrs.to === alice.jid;
    await ctx.step('the user reads them', () => ctx.candidate.driver.read({ from: alice.jid, ids }));
    const first = await ctx.step('a read receipt goes out', () => awaitSent(ctx, seq, receiptOf('read')));
    const reads = candidateSent(ctx, seq, 'receipt').filter(receiptOf('read'));
    if (!first) {
      ctx.must(false, 'VIO_RCPT_READ_MISSING', 'no read receipt was sent', 'REQ-RCPT-003');
      return;
    }
    const named = reads.flatMap((r) => receiptIds(r.node));
    ctx.must(
      [...named].sort().join() === [...ids].sort().join(),
      'VIO_RCPT_WRONG_ID',
      `read receipts name ${named.join(', ')} instead of ${ids.join(', ')}`,
      'REQ-RCPT-003',
    );
    for (const r of reads) {
      ctx.must(
        receiptIds(r.node).length <= 101,
        'VIO_RCPT_WRONG_ID',
        'a read receipt lists more than 100 items',
        'REQ-RCPT-003',
      );
      ctx.must(
        r.node.attrs.id === ids.find((id) => receiptIds(r.node).includes(id)),
        'VIO_RCPT_WRONG_ID',
        `read receipt ${r.node.attrs.id} does not lead with the oldest message it covers`,
        'REQ-RCPT-003',
      );
    }
    await ctx.step('the sender gets it', () =>
      alice.events.waitFor('receipt', (e) => e.receiptType === 'read' && e.ids.includes(ids[0] ?? '')),
    );
    if (!ctx.variant.voice) return;
    const before = ctx.server.transcript.seq;
    await ctx.step('the user plays the voice note', () =>
      ctx.candidate.driver.read({ from: alice.jid, ids, type: 'played' }),
    );
    const played = await ctx.step('a played receipt goes out', () =>
      awaitSent(ctx, before, receiptOf('played')),
    );
    ctx.should(played !== undefined, 'VIO_RCPT_READ_MISSING', 'no played receipt was sent', 'REQ-RCPT-005');
    if (played) {
      ctx.should(
        receiptIds(played.node).join() === ids.join(),
        'VIO_RCPT_WRONG_ID',
        `played receipt names ${receiptIds(played.node).join(', ')}`,
        'REQ-RCPT-005',
      );
      ctx.should(played.seq > first.seq, 'VIO_RCPT_WRONG_ID', 'played went before read', 'REQ-RCPT-005');
    }
  },
});
