import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'BLOCK-OPTIN-001',
  title: 'A message to a user who has not opted in is shown as failed and never sent again',
  requirements: ['REQ-BLOCK-005'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'never-opted-in': { established: false, reconnect: false },
    'opted-out-later': { established: true, reconnect: false },
    'opted-out-then-reconnect': { established: true, reconnect: true },
  } as const,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer(ctx.variant.established ? {} : { optedIn: false });
    const bob = await ctx.peer();
    if (ctx.variant.established) {
      await ctx.step('a conversation both ways, then the user opts out', async () => {
        const a = await alice.send(jid, { type: 'text', text: 'hi' });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
        const { id } = await ctx.candidate.driver.send({
          to: alice.jid,
          content: { type: 'text', text: 'hi back' },
        });
        await alice.events.waitFor('message', (e) => e.id === id);
        ctx.server.core.setOptIn(alice.jid, false);
      });
    }
    const seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    const { id } = await ctx.step('the candidate sends to the user', () =>
      ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: 'are you there?' } }),
    );
    const failed = await ctx.step('the candidate shows it failed', () =>
      ctx.candidate.events.waitFor('send-failed', (e) => e.id === id, { since }),
    );
    ctx.must(failed.to === alice.jid, 'VIO_BLOCK_OPT_IN_MISHANDLED', `failure shown for ${failed.to}`);
    if (ctx.variant.reconnect) {
      const at = ctx.candidate.events.cursor;
      await ctx.step('the connection drops and the candidate logs in again', async () => {
        ctx.server.core.cut(jid);
        await ctx.candidate.events.waitFor('connection', (e) => e.state === 'connected', {
          since: at,
          timeoutMs: 10_000,
        });
      });
    }
    await ctx.step('an outbound fence: a message to another contact arrives', async () => {
      const fence = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'text', text: 'fence' },
      });
      await bob.events.waitFor('message', (e) => e.id === fence.id);
    });
    const copies = candidateSent(ctx, seq, 'message').filter((f) => f.node.attrs.id === id);
    ctx.must(
      copies.length <= 1,
      'VIO_BLOCK_OPT_IN_MISHANDLED',
      `the refused message was sent ${copies.length} times`,
    );
    const sentShown = ctx.candidate.events.of('message-sent', since).some((e) => e.id === id);
    ctx.must(!sentShown, 'VIO_BLOCK_OPT_IN_MISHANDLED', 'the refused message was also shown as sent');
    ctx.note('refusal', { reason: failed.reason, wireCopies: copies.length });
  },
});
