import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentMessages, untilWire } from '../../e2ee/wire.ts';

interface V {
  readonly setup: 'first-message' | 'established' | 'peer-lost-session';
}

export default defineScenario<V>({
  id: 'E2EE-RETRY-001',
  title: 'A retry receipt from the contact brings the same message again, same id, as pkmsg with its count',
  requirements: ['REQ-E2EE-014'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'first-message': { setup: 'first-message' },
    established: { setup: 'established' },
    'peer-lost-session': { setup: 'peer-lost-session' },
  },
  async run(ctx) {
    const bob = await ctx.peer();
    if (ctx.variant.setup !== 'first-message') await converse(ctx, bob);
    if (ctx.variant.setup === 'peer-lost-session') {
      await ctx.step('the contact loses its session', () => bob.identity.deleteSession(ctx.candidate.jid));
    } else {
      ctx.server.core.fault(bob.jid, { kind: 'tamper', offset: -1 });
    }
    const seq = ctx.server.transcript.seq;
    const text = `needs a retry (${ctx.variant.setup})`;
    const { id } = await ctx.step('the candidate sends a message the contact cannot decrypt', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text } }),
    );
    await ctx.step('the contact sends a retry receipt', () =>
      bob.events.waitFor('retry-sent', (e) => e.id === id && e.count === 1),
    );
    const copies = () => sentMessages(ctx, seq, bob.jid).filter((m) => m.id === id);
    const answered = await ctx.step('the candidate re-sends', () => untilWire(() => copies().length >= 2));
    ctx.must(answered, 'VIO_E2EE_RETRY_UNANSWERED', 'the retry receipt was not answered with a re-send');
    if (!answered) return;
    const resend = copies()[1];
    ctx.must(
      resend?.ct?.type === 'pkmsg',
      'VIO_E2EE_RETRY_UNANSWERED',
      `the re-send is a ${resend?.ct?.type}, not a pkmsg on a fresh session`,
    );
    ctx.must(
      resend?.count === '1',
      'VIO_E2EE_RETRY_UNANSWERED',
      `the re-send carries count ${resend?.count ?? '(none)'} on <enc>, not 1`,
    );
    const got = await ctx.step('the contact decrypts the re-send', () =>
      bob.events.waitFor('message', (e) => e.id === id),
    );
    ctx.must(
      got.content.type === 'text' && got.content.text === text,
      'VIO_MSG_CONTENT_MISMATCH',
      `the re-send decrypted as ${JSON.stringify(got.content)}`,
    );
  },
});
