import { pad } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { pollUntil } from '../../../harness/scenario/wire.ts';
import { sentAcks } from '../../e2ee/wire.ts';

export default defineScenario<{ readonly payload: readonly number[] }>({
  id: 'ROBUST-PROTOBUF-001',
  title:
    'A message that decrypts to an invalid protobuf is nacked with 491, shows nothing, and the session goes on',
  requirements: ['REQ-ROBUST-005'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    // Field 1 with wire type 7, which does not exist.
    'bad-wire-type': { payload: [0x0f, 0xff, 0xff, 0xff] },
    // Field 1 (conversation) says 100 bytes follow; 3 do.
    truncated: { payload: [0x0a, 0x64, 0x61, 0x62, 0x63] },
    // A varint that never ends.
    'endless-varint': { payload: [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    await ctx.step('a session from the WhatsApp user', () => ctx.fence(alice));
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    // Valid padding around bytes that are no Message: only the protobuf check can refuse it.
    const id = await ctx.step('it sends a payload that is not a protobuf Message', () =>
      alice.sendPlaintextBytes(jid, pad(Uint8Array.from(ctx.variant.payload), 3)),
    );
    await ctx.step('the next message is still shown', () => ctx.fence(alice));
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.id === id);
    ctx.must(shown.length === 0, 'VIO_ROBUST_INVALID_SHOWN', 'the invalid payload was shown as a message');
    const rejected = ctx.candidate.events.of('message-rejected', since).find((e) => e.id === id);
    ctx.must(
      rejected?.reason === 'invalid-protobuf',
      'VIO_E2EE_WRONG_REASON',
      rejected ? `refused as ${rejected.reason}, not as invalid-protobuf` : 'no message-rejected for it',
    );
    // The ack crosses the socket after the candidate's events: wait for it on the wire.
    const acks = await ctx.step('the candidate answers the message on the wire', async () => {
      await pollUntil(() => sentAcks(ctx, id, seq).length > 0);
      return sentAcks(ctx, id, seq).map((a) => a.node);
    });
    ctx.must(
      acks.length === 1 && acks[0]?.attrs.error === '491',
      'VIO_ROBUST_INVALID_SHOWN',
      `acked ${acks.length} times, error ${acks.map((a) => a.attrs.error ?? '(none)').join(', ')}, not one nack 491`,
    );
  },
});
