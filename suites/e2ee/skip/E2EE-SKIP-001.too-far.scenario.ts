import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { editSignalMessage } from '../../../harness/crypto/inspect-mutate.ts';
import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentRetries, shownOrRejected } from '../../e2ee/wire.ts';

/** More than the 25,000 skipped message keys the profile allows. */
const JUMP = 30_000;

export default defineScenario({
  id: 'E2EE-SKIP-001',
  title: 'A message whose counter skips too far ahead is refused quickly and later messages still decrypt',
  requirements: ['REQ-E2EE-005'],
  level: 'MUST',
  kind: 'robustness',
  async run(ctx) {
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    const started = Date.now();
    const id = await ctx.step(`a msg whose counter is ${JUMP} ahead`, async () => {
      const ct = await alice.identity.encrypt(
        ctx.candidate.jid,
        encodePlaintext({ type: 'text', text: 'from far ahead' }),
      );
      const seen = inspectCiphertext(ct);
      const counter = (seen.ok ? seen.value.counter : 0) + JUMP;
      return alice.sendRaw(ctx.candidate.jid, {
        type: ct.type,
        bytes: editSignalMessage(ct.bytes, { counter }),
      });
    });
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, id, since));
    ctx.note('decided after ms', Date.now() - started);
    ctx.must(!outcome.shown, 'VIO_E2EE_TAMPER_ACCEPTED', 'a message from too far ahead was shown');
    if (!outcome.shown) {
      ctx.must(
        outcome.event.reason === 'invalid-message' || outcome.event.reason === 'tampered',
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as an invalid or tampered message`,
      );
    }
    // The session survives the bad message: the next genuine ones decrypt as they come, with no
    // refusal and no retry receipt (a retry would only hide a session the candidate lost).
    for (const n of [1, 2]) {
      const mark = ctx.candidate.events.cursor;
      const seq = ctx.server.transcript.seq;
      const next = await ctx.step(`genuine message ${n} after it`, () =>
        alice.send(ctx.candidate.jid, { type: 'text', text: `still in session ${n}` }),
      );
      const got = await ctx.step(`the candidate decides on genuine message ${n}`, () =>
        shownOrRejected(ctx, next.id, mark),
      );
      ctx.must(
        got.shown && sentRetries(ctx, next.id, seq).length === 0,
        'VIO_E2EE_SESSION_LOST',
        `genuine message ${n} after the one from too far ahead did not decrypt${got.shown ? ' at once' : ` (${got.event.reason})`}`,
      );
    }
    await ctx.step('the conversation goes on', () => ctx.fence(alice));
  },
});
