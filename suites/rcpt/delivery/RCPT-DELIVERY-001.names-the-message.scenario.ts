import type { MediaFixture } from '../../../harness/driver/contract.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes } from '../../../harness/scenario/helpers.ts';
import { awaitSent, candidateSent, receiptIds } from '../wire.ts';

interface V {
  readonly established: boolean;
  readonly media?: { readonly type: 'image'; readonly file: MediaFixture };
}

export default defineScenario<V>({
  id: 'RCPT-DELIVERY-001',
  title: 'The delivery receipt goes to the sender, untyped, under the id of the message received',
  requirements: ['REQ-RCPT-001'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'first-message': { established: false },
    'established-session': { established: true },
    image: { established: false, media: { type: 'image', file: 'photo.jpg' } },
  },
  async run(ctx) {
    const alice = await ctx.peer();
    if (ctx.variant.established) {
      await ctx.step('a conversation both ways', async () => {
        const a = await alice.send(ctx.candidate.jid, { type: 'text', text: 'hi' });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'hi back' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
      });
    }
    const seq = ctx.server.transcript.seq;
    const media = ctx.variant.media;
    const sent = await ctx.step('a WhatsApp user sends a message', () =>
      alice.send(
        ctx.candidate.jid,
        media ? { type: media.type, file: fixtureBytes(media.file) } : { type: 'text', text: 'receipt me' },
      ),
    );
    await ctx.step('the candidate shows it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id),
    );
    const receipt = await ctx.step('the candidate sends a delivery receipt', () =>
      awaitSent(
        ctx,
        seq,
        (f) => f.node.tag === 'receipt' && f.node.attrs.type === undefined && f.node.attrs.to === alice.jid,
      ),
    );
    if (receipt === undefined) {
      const receipts = candidateSent(ctx, seq, 'receipt').map((f) => JSON.stringify(f.node.attrs));
      ctx.must(
        false,
        'VIO_RCPT_MISSING',
        `no delivery receipt went to the sender (receipts sent: ${receipts.join(' ') || 'none'})`,
      );
      return;
    }
    const ids = receiptIds(receipt.node);
    ctx.must(
      ids.includes(sent.id),
      'VIO_RCPT_WRONG_ID',
      `the delivery receipt names ${ids.join(', ')} instead of ${sent.id}`,
    );
    if (ids.includes(sent.id)) {
      await ctx.step('the sender gets it', () =>
        alice.events.waitFor('receipt', (e) => e.receiptType === 'delivery' && e.ids.includes(sent.id)),
      );
    }
  },
});
