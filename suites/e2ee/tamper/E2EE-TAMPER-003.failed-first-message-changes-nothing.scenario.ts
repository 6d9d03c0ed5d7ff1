import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { editInnerMessage } from '../../../harness/crypto/inspect-mutate.ts';
import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentRetries, shownOrRejected } from '../../e2ee/wire.ts';

// A first message that fails to decrypt aborts the key agreement: nothing of it stays. Sent
// under another identity from the address of a contact with an established session, it must
// leave that session and that identity as they were, so the contact's next message decrypts at
// once and no security notice is shown for an identity that never proved itself.
export default defineScenario({
  id: 'E2EE-TAMPER-003',
  title:
    "A first message under another identity that fails to decrypt leaves the contact's session as it was",
  requirements: ['REQ-E2EE-009'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const since = ctx.candidate.events.cursor;
    const id = await ctx.step(
      "a pkmsg under another identity from the contact's address, its inner message altered",
      async () => {
        const other = await ctx.peerProfile.createIdentity({ preKeyCount: 1 });
        const bundle = await alice.fetchBundle(ctx.candidate.jid);
        const ok = await other.processBundle(ctx.candidate.jid, bundle);
        ctx.demand(ok.ok, 'VIO_KEYS_REFUSED', "the candidate's bundle does not verify");
        const ct = await other.encrypt(
          ctx.candidate.jid,
          encodePlaintext({ type: 'text', text: 'never decrypts' }),
        );
        const seen = inspectCiphertext(ct);
        const counter = (seen.ok ? seen.value.counter : 0) + 1;
        return alice.sendRaw(ctx.candidate.jid, {
          type: ct.type,
          bytes: editInnerMessage(ct.bytes, { counter }),
        });
      },
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, id, since));
    ctx.must(!outcome.shown, 'VIO_E2EE_TAMPER_ACCEPTED', 'the altered first message was shown');
    const mark = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    const next = await ctx.step('the contact writes in its established session', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'still me' }),
    );
    const got = await ctx.step('the candidate decides on it', () => shownOrRejected(ctx, next.id, mark));
    ctx.must(
      got.shown && sentRetries(ctx, next.id, seq).length === 0,
      'VIO_E2EE_SESSION_LOST',
      `the contact's next message did not decrypt${got.shown ? ' at once' : ` (${got.event.reason})`}: the failed first message cost the session`,
    );
    const notices = ctx.candidate.events.of('security-notice', since).filter((e) => e.jid === alice.jid);
    ctx.note('security notices for the contact', notices.length);
    await ctx.step('the conversation goes on', () => ctx.fence(alice));
  },
});
