import { defineScenario } from '../../../harness/scenario/define.ts';
import { sentMessages, sentRetries, shownOrRejected, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-SESSION-002',
  title:
    'A first message from a contact the candidate never talked to is shown, answered in the session it set up, and that session goes on',
  requirements: ['REQ-E2EE-001'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const alice = await ctx.peer();
    const since = ctx.candidate.events.cursor;
    const first = await ctx.step('a new contact sends a first message (pkmsg)', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'hello, we never talked' }),
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, first.id, since));
    ctx.demand(
      outcome.shown,
      'VIO_MSG_NOT_SHOWN',
      `the first message was refused${outcome.shown ? '' : ` as ${outcome.event.reason}`}`,
      'REQ-E2EE-001',
    );
    if (outcome.shown) {
      ctx.must(
        outcome.event.content.text === 'hello, we never talked',
        'VIO_MSG_CONTENT_MISMATCH',
        `shown as ${JSON.stringify(outcome.event.content)}`,
        'REQ-E2EE-001',
      );
    }
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate answers', () =>
      ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: 'hello back' } }),
    );
    await ctx.step('the answer reaches the server', () =>
      untilWire(() => sentMessages(ctx, seq, alice.jid).some((m) => m.id === id)),
    );
    // Decided on the wire: having decrypted the contact's message in the session its pkmsg set
    // up, the candidate answers in that session with a msg; a pkmsg means it started another.
    const answer = sentMessages(ctx, seq, alice.jid).find((m) => m.id === id);
    ctx.must(
      answer?.ct?.type === 'msg',
      'VIO_E2EE_WRONG_MESSAGE_TYPE',
      `the answer went as ${answer?.ct?.type ?? 'nothing'}, not as a msg in the session the contact's first message set up`,
      'REQ-E2EE-001',
    );
    await ctx.step('the contact decrypts the answer', () =>
      alice.events.waitFor('message', (e) => e.id === id),
    );
    const mark = ctx.candidate.events.cursor;
    const retrySeq = ctx.server.transcript.seq;
    const next = await ctx.step('the contact writes again in the session', () =>
      alice.send(ctx.candidate.jid, { type: 'text', text: 'and again' }),
    );
    const again = await ctx.step('the candidate decides', () => shownOrRejected(ctx, next.id, mark));
    ctx.must(
      again.shown && sentRetries(ctx, next.id, retrySeq).length === 0,
      'VIO_MSG_NOT_SHOWN',
      `the contact's next message did not decrypt${again.shown ? ' at once' : ` (${again.event.reason})`}`,
      'REQ-E2EE-001',
    );
  },
});
