import { defineScenario } from '../../../harness/scenario/define.ts';
import { canary, wireNeedles } from '../../../harness/scenario/helpers.ts';

export default defineScenario({
  id: 'PRIV-CANARY-001',
  title: 'What the candidate sends never appears in the clear on the wire',
  requirements: ['REQ-PRIV-001'],
  level: 'MUST',
  kind: 'security',
  variants: { text: { type: 'text' }, reply: { type: 'reply' } } as const,
  async run(ctx) {
    const bob = await ctx.peer();
    const secret = canary(ctx.id);
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate sends a message holding a canary', () =>
      ctx.candidate.driver.send({
        to: bob.jid,
        content:
          ctx.variant.type === 'text'
            ? { type: 'text', text: `secret: ${secret}` }
            : { type: 'reply', text: `secret: ${secret}`, quotedId: '3EB0000000000000000001' },
      }),
    );
    // Decide on what crossed the wire first: a candidate that leaks may also break decryption.
    await ctx.step('the message reaches the server', async () => {
      for (let i = 0; i < 100; i++) {
        const seen = ctx.server.transcript
          .slice(seq)
          .some((e) => e.kind === 'frame' && e.direction === 'c2s' && e.stanza.includes(id));
        if (seen) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const needles = wireNeedles(secret);
    const leaks = ctx.server.transcript
      .slice(seq)
      .filter((e) => needles.some((n) => JSON.stringify(e).includes(n)));
    ctx.must(
      leaks.length === 0,
      'VIO_PRIV_PLAINTEXT_LEAK',
      `the canary is visible in ${leaks.length} transcript entries`,
    );
    await ctx.step('the peer decrypts it', () => bob.events.waitFor('message', (e) => e.id === id));
  },
});
