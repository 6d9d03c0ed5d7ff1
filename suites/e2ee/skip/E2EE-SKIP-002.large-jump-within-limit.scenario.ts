import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import type { Ciphertext } from '../../../harness/crypto/profile.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse } from '../../e2ee/wire.ts';

// The counterpart of E2EE-SKIP-001: a counter jump the profile allows (fewer than its 25,000
// skipped keys) is genuine, so the message after it must be shown, and so must the skipped ones
// when they arrive late, in any order. The peer really encrypts every skipped message; the
// network holds them back.
export default defineScenario({
  id: 'E2EE-SKIP-002',
  title:
    'After a large genuine counter jump within the limit, the message and the skipped ones late are all shown',
  requirements: ['REQ-E2EE-004', 'REQ-E2EE-003'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: 40_000,
  variants: {
    'jump-100': { jump: 100 },
    'jump-2000': { jump: 2000 },
  } as const,
  async run(ctx) {
    const alice = await ctx.peer();
    await converse(ctx, alice);
    const jid = ctx.candidate.jid;
    const texts = (i: number) => `held back ${i}`;
    const held = await ctx.step(
      `the peer encrypts ${ctx.variant.jump} messages the network holds back`,
      async () => {
        const out: Ciphertext[] = [];
        for (let i = 0; i < ctx.variant.jump; i++) {
          out.push(await alice.identity.encrypt(jid, encodePlaintext({ type: 'text', text: texts(i) })));
        }
        return out;
      },
    );
    const since = ctx.candidate.events.cursor;
    await ctx.step('the message after the gap arrives and is shown', () => ctx.fence(alice));
    // The oldest, one from the middle and the newest of the skipped ones, newest first.
    const late = [held.length - 1, Math.floor(held.length / 2), 0];
    for (const i of late) {
      const ct = held[i] as Ciphertext;
      const id = await ctx.step(`skipped message ${i} arrives late`, () => alice.sendRaw(jid, ct));
      const shown = await ctx.step(`the candidate shows skipped message ${i}`, async () => {
        const r = await Promise.race([
          ctx.candidate.events.waitFor('message-received', (e) => e.id === id, { since }),
          ctx.candidate.events.waitFor('message-rejected', (e) => e.id === id, { since }),
        ]);
        return r;
      });
      if (shown.type === 'message-rejected') {
        ctx.must(
          false,
          'VIO_E2EE_OUT_OF_ORDER_DROPPED',
          `skipped message ${i} of ${held.length} was refused as ${shown.reason}`,
          'REQ-E2EE-004',
        );
        continue;
      }
      ctx.must(
        shown.content.type === 'text' && shown.content.text === texts(i),
        'VIO_MSG_CONTENT_MISMATCH',
        `skipped message ${i} was shown as ${JSON.stringify(shown.content).slice(0, 100)}`,
        'REQ-E2EE-003',
      );
    }
    await ctx.step('the conversation goes on', () => ctx.fence(alice));
  },
});
