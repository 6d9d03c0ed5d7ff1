import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { hex, sentMessages, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-REPLAY-003',
  title: 'When a first message reaches the candidate twice, its replies after each use different keys',
  requirements: ['REQ-E2EE-007', 'REQ-E2EE-021'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const alice = await ctx.peer();
    // The fence after the replay comes from someone else: a message from the contact would move
    // the candidate's ratchet on, and hide a reply made from the replayed first message's keys.
    const carol = await ctx.peer();
    const since = ctx.candidate.events.cursor;
    const m = await ctx.step('a first message', async () => {
      const sent = await alice.send(ctx.candidate.jid, { type: 'text', text: 'first' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id, { since });
      return sent;
    });
    const seq = ctx.server.transcript.seq;
    const reply = async (label: string): Promise<string> => {
      const { id } = await ctx.step(label, () =>
        ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: label } }),
      );
      await ctx.step(`${label}: it reaches the server`, () =>
        untilWire(() => sentMessages(ctx, seq, alice.jid).some((x) => x.id === id)),
      );
      return id;
    };
    const r1 = await reply('the reply after the first delivery');
    await ctx.step('the server replays the first message, then a fence from another contact', async () => {
      const replayed = ctx.server.core.replay(
        ctx.candidate.jid,
        (n) => n.tag === 'message' && n.attrs.id === m.id,
      );
      ctx.demand(
        replayed !== undefined,
        'VIO_MSG_NOT_SHOWN',
        'nothing to replay (harness setup)',
        'REQ-E2EE-007',
      );
      await ctx.fence(carol);
    });
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.id === m.id);
    ctx.must(
      shown.length === 1,
      'VIO_E2EE_REPLAY_ACCEPTED',
      `the first message was shown ${shown.length} times`,
      'REQ-E2EE-007',
    );
    const r2 = await reply('the reply after the replay');
    const keyOf = (id: string): string | undefined => {
      const ct = sentMessages(ctx, seq, alice.jid).find((x) => x.id === id)?.ct;
      const seen = ct ? inspectCiphertext(ct) : undefined;
      return seen?.ok ? `${hex(seen.value.ratchetKey)}/${seen.value.counter}` : undefined;
    };
    const k1 = keyOf(r1);
    const k2 = keyOf(r2);
    ctx.note('reply keys (ratchet key / counter)', [k1, k2]);
    ctx.must(
      k1 === undefined || k1 !== k2,
      'VIO_E2EE_MESSAGE_KEY_REUSED',
      'the replies before and after the replay use the same ratchet key and counter',
      'REQ-E2EE-021',
    );
    for (const [label, id] of [
      ['the reply after the first delivery', r1],
      ['the reply after the replay', r2],
    ] as const) {
      const got = await ctx.step(`the contact decrypts ${label}`, () =>
        Promise.race([
          alice.events.waitFor('message', (e) => e.id === id),
          alice.events.waitFor('message-rejected', (e) => e.id === id),
        ]),
      );
      if (got.type === 'message-rejected') {
        ctx.must(false, got.code, `the contact could not decrypt ${label}: ${got.message}`, 'REQ-E2EE-021');
      }
    }
  },
});
