import { defineScenario } from '../../../harness/scenario/define.ts';
import { sentMessages, untilWire } from '../../e2ee/wire.ts';

const SAME = 'the same words, again and again';

export default defineScenario({
  id: 'PRIV-PADDING-001',
  title: 'Every payload the candidate encrypts carries valid padding',
  requirements: ['REQ-PRIV-002'],
  level: 'MUST',
  kind: 'security',
  variants: {
    text: { content: { type: 'text', text: SAME } },
    reply: { content: { type: 'reply', text: SAME, quotedId: '3EB0000000000000000002' } },
  } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const ids: string[] = [];
    const outcomes = await ctx.step('the candidate sends the same content four times', async () => {
      const out: ('shown' | string)[] = [];
      for (let i = 0; i < 4; i++) {
        const { id } = await ctx.candidate.driver.send({ to: bob.jid, content: ctx.variant.content });
        ids.push(id);
        // The contact unpads every payload: a payload without valid padding is refused with its code.
        const got = await Promise.race([
          bob.events.waitFor('message', (e) => e.id === id).then(() => 'shown'),
          bob.events.waitFor('message-rejected', (e) => e.id === id).then((e) => e.code),
        ]);
        out.push(got);
      }
      return out;
    });
    const refused = outcomes.filter((o) => o !== 'shown');
    ctx.must(
      refused.length === 0,
      refused.includes('VIO_CONTENT_BAD_PADDING') ? 'VIO_CONTENT_BAD_PADDING' : 'VIO_MSG_NOT_SHOWN',
      `the contact refused ${refused.length} of 4 payloads: ${refused.join(', ')}`,
    );
    // What the wire shows of padding: the lengths of equal content (random padding varies them).
    await untilWire(() => sentMessages(ctx, seq, bob.jid).filter((m) => ids.includes(m.id)).length >= 4);
    const lengths = sentMessages(ctx, seq, bob.jid)
      .filter((m) => ids.includes(m.id) && m.ct?.type === 'msg')
      .map((m) => m.ct?.bytes.length ?? 0);
    ctx.note('ciphertext lengths of equal content on the established session', lengths);
  },
});
