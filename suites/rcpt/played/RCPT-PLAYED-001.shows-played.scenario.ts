import { defineScenario } from '../../../harness/scenario/define.ts';
import { peerOutcome } from '../wire.ts';

export default defineScenario({
  id: 'RCPT-PLAYED-001',
  title: "A contact's played receipt shows the candidate's voice note as played",
  requirements: ['REQ-RCPT-006'],
  level: 'SHOULD',
  kind: 'conformance',
  async run(ctx) {
    if (!ctx.candidate.manifest.features.includes('send-voice')) {
      ctx.note('not checked', 'the candidate declares no send-voice: it has no voice note to see played');
      return;
    }
    const bob = await ctx.peer();
    const { id } = await ctx.step('the candidate sends a voice note', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'voice', media: { fixture: 'voice.ogg' } } }),
    );
    const got = await ctx.step('the WhatsApp user receives it', () => peerOutcome(bob, id));
    if ('rejected' in got) {
      ctx.should(
        false,
        got.rejected.code,
        `the WhatsApp user refused the voice note: ${got.rejected.message}`,
      );
      return;
    }
    const since = ctx.candidate.events.cursor;
    await ctx.step('the WhatsApp user listens: read, then played', () => {
      bob.markRead(ctx.candidate.jid, [id]);
      bob.markPlayed(ctx.candidate.jid, [id]);
    });
    await ctx.step('a fence message from the same contact', () => ctx.fence(bob));
    const shown = ctx.candidate.events.of('receipt-received', since).filter((e) => e.from === bob.jid);
    ctx.should(
      shown.some((e) => e.receipt === 'played' && e.ids.includes(id)),
      'VIO_RCPT_MISSING',
      `the voice note was not shown as played (shown: ${shown.map((e) => e.receipt).join(', ') || 'nothing'})`,
    );
  },
});
