import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { childrenOf } from '../../../harness/xml/node.ts';
import { sentMessages, sentStanzas, untilWire } from '../../e2ee/wire.ts';

/** Every element and attribute name of a stanza, with its path. */
function names(node: StanzaNode, path = ''): string[] {
  const here = `${path}/${node.tag}`;
  return [
    here,
    ...Object.keys(node.attrs).map((a) => `${here}@${a}`),
    ...(node.content instanceof Uint8Array ? [] : childrenOf(node).flatMap((c) => names(c, here))),
  ];
}

const SIGNED = /sig|signature|proof|hmac|auth/i;

export default defineScenario({
  id: 'E2EE-DENY-001',
  title: 'Messages and receipts carry no signature, and each message is encrypted once to the one device',
  requirements: ['REQ-E2EE-022', 'REQ-E2EE-023'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const ids = await ctx.step('the candidate writes, and answers after the contact writes', async () => {
      const a = await ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'one' } });
      await bob.events.waitFor('message', (e) => e.id === a.id);
      const m = await bob.send(ctx.candidate.jid, { type: 'text', text: 'two' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      await ctx.candidate.driver.read({ from: bob.jid, ids: [m.id] });
      const b = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'reply', text: 'three', quotedId: m.id },
      });
      await bob.events.waitFor('message', (e) => e.id === b.id);
      return [a.id, b.id];
    });
    await untilWire(() => sentStanzas(ctx, 'receipt', seq).length >= 2, 1000);
    const messages = sentMessages(ctx, seq, bob.jid).filter((m) => ids.includes(m.id));
    for (const m of messages) {
      const encs = childrenOf(m.node).filter((c) => c.tag === 'enc');
      ctx.must(
        encs.length === 1 && !childrenOf(m.node).some((c) => c.tag === 'participants'),
        'VIO_SCHEMA_CHILD_COUNT',
        `message ${m.id} has ${encs.length} <enc> and ${childrenOf(m.node)
          .map((c) => c.tag)
          .join(', ')}`,
        'REQ-E2EE-023',
      );
      const copies = sentMessages(ctx, seq).filter((o) => o.id === m.id);
      ctx.must(
        copies.length === 1,
        'VIO_SCHEMA_CHILD_COUNT',
        `message ${m.id} was encrypted and sent ${copies.length} times`,
        'REQ-E2EE-023',
      );
    }
    const signed = [...messages, ...sentStanzas(ctx, 'receipt', seq)].flatMap((s) =>
      names(s.node).filter((n) => SIGNED.test(n.split('/').pop() ?? '')),
    );
    ctx.must(
      signed.length === 0,
      'VIO_SCHEMA_UNEXPECTED_CHILD',
      `signature-like fields on messages or receipts: ${signed.join(', ')}`,
      'REQ-E2EE-022',
    );
  },
});
