import { pad } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { pollUntil } from '../../../harness/scenario/wire.ts';
import { sentAcks } from '../../e2ee/wire.ts';

/** A valid Message holding only fields the profile does not define (length-delimited). */
function unknownFields(fields: readonly number[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    let tag = (f << 3) | 2;
    while (tag > 0x7f) {
      out.push((tag & 0x7f) | 0x80);
      tag >>>= 7;
    }
    out.push(tag, 3, 0x61, 0x62, 0x63);
  }
  return Uint8Array.from(out);
}

export default defineScenario<{ readonly fields: readonly number[] }>({
  id: 'ROBUST-UNSUPPORTED-001',
  title: 'Content the candidate does not support is acked plainly and receipted, and the session goes on',
  requirements: ['REQ-ROBUST-006'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    'one-unknown-field': { fields: [99] },
    'several-unknown-fields': { fields: [57, 1000, 123456] },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    await ctx.step('a session from the WhatsApp user', () => ctx.fence(alice));
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    const id = await ctx.step('it sends a Message with no content field the profile knows', () =>
      alice.sendPlaintextBytes(jid, pad(unknownFields(ctx.variant.fields), 5)),
    );
    await ctx.step('the next message is still shown', () => ctx.fence(alice));
    // The ack crosses the socket after the candidate's events: wait for it on the wire.
    const acks = await ctx.step('the candidate answers the message on the wire', async () => {
      await pollUntil(() => sentAcks(ctx, id, seq).length > 0);
      return sentAcks(ctx, id, seq).map((a) => a.node);
    });
    ctx.must(
      acks.length === 1 && acks[0]?.attrs.error === undefined,
      'VIO_STANZA_NOT_ACKED',
      `acked ${acks.length} times, error ${acks.map((a) => a.attrs.error ?? '(none)').join(', ')}, not one plain ack`,
    );
    const receipt = await ctx.step('the WhatsApp user gets a delivery receipt', () =>
      alice.events
        .waitFor('receipt', (e) => e.ids.includes(id) && e.receiptType === 'delivery')
        .catch(() => undefined),
    );
    ctx.must(receipt !== undefined, 'VIO_RCPT_MISSING', 'no delivery receipt for the unsupported message');
    const rejected = ctx.candidate.events.of('message-rejected', since).find((e) => e.id === id);
    const shown = ctx.candidate.events.of('message-received', since).find((e) => e.id === id);
    ctx.note(
      'what the user was told',
      rejected?.reason ?? (shown ? `shown as ${shown.content.type}` : 'nothing'),
    );
    ctx.must(
      rejected === undefined || rejected.reason === 'unsupported-content',
      'VIO_E2EE_WRONG_REASON',
      `refused as ${rejected?.reason}, not as unsupported-content`,
    );
  },
});
