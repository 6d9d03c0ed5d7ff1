import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes } from '../../../harness/scenario/helpers.ts';
import { candidateSent } from '../../rcpt/wire.ts';

type What = 'read' | 'played' | 'typing';

export default defineScenario<{ what: What }>({
  id: 'BLOCK-SILENT-001',
  title: 'Nothing goes to a blocked contact: no read or played receipts, no chat states',
  requirements: ['REQ-BLOCK-004'],
  level: 'MUST',
  kind: 'security',
  variants: { read: { what: 'read' }, played: { what: 'played' }, typing: { what: 'typing' } },
  async run(ctx) {
    const what = ctx.variant.what;
    const features = ctx.candidate.manifest.features;
    if (
      (what === 'typing' && !features.includes('typing-send')) ||
      (what !== 'typing' && !features.includes('read-receipts-send'))
    ) {
      ctx.note(
        'not checked',
        `the candidate does not send ${what === 'typing' ? 'chat states' : 'read receipts'}`,
      );
      return;
    }
    const alice = await ctx.peer();
    const bob = await ctx.peer();
    const m = await ctx.step('a message from the contact is shown', async () => {
      const sent = await alice.send(
        ctx.candidate.jid,
        what === 'played'
          ? { type: 'voice', file: fixtureBytes('voice.ogg'), seconds: 3 }
          : { type: 'text', text: 'hi' },
      );
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id);
      return sent;
    });
    await ctx.step('the user blocks the contact', () => ctx.candidate.driver.block({ jid: alice.jid }));
    const seq = ctx.server.transcript.seq;
    await ctx.step(
      `the user ${what === 'typing' ? 'types in' : `${what} the message of`} the chat`,
      async () => {
        if (what === 'typing') {
          await ctx.candidate.driver.typing({ to: alice.jid, state: 'composing' });
          await ctx.candidate.driver.typing({ to: alice.jid, state: 'paused' });
        } else {
          await ctx.candidate.driver.read({ from: alice.jid, ids: [m.id] });
          if (what === 'played')
            await ctx.candidate.driver.read({ from: alice.jid, ids: [m.id], type: 'played' });
        }
      },
    );
    await ctx.step('an outbound fence: a message to another contact arrives', async () => {
      const { id } = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'text', text: 'fence' },
      });
      await bob.events.waitFor('message', (e) => e.id === id);
    });
    const leaked = candidateSent(ctx, seq).filter(
      (f) =>
        f.node.attrs.to === alice.jid &&
        (f.node.tag === 'chatstate' ||
          f.node.tag === 'presence' ||
          (f.node.tag === 'receipt' && (f.node.attrs.type === 'read' || f.node.attrs.type === 'played'))),
    );
    ctx.must(
      leaked.length === 0,
      'VIO_BLOCK_LEAK',
      `sent to the blocked contact: ${leaked.map((f) => `${f.node.tag} ${f.node.attrs.type ?? ''}`.trim()).join(', ')}`,
    );
  },
});
