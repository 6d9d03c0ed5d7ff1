import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentMessages, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-PCS-001',
  title:
    "After one ratchet round trip, a leaked copy of the contact's session no longer decrypts the candidate",
  requirements: ['REQ-E2EE-020'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const bob = await ctx.peer();
    await converse(ctx, bob);
    const leaked = await ctx.step("an eavesdropper copies the contact's session state", () =>
      bob.identity.snapshot(),
    );
    const send = async (label: string, text: string) => {
      const seq = ctx.server.transcript.seq;
      const { id } = await ctx.step(label, () =>
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text } }),
      );
      await untilWire(() => sentMessages(ctx, seq, bob.jid).some((m) => m.id === id));
      await bob.events.waitFor('message', (e) => e.id === id);
      return sentMessages(ctx, seq, bob.jid).find((m) => m.id === id)?.ct;
    };
    const before = await send('the candidate writes right after the leak', 'still exposed');
    // The contact's next ratchet key was already in the leaked state; the one after is not.
    const turns: (typeof before | undefined)[] = [];
    for (let turn = 1; turn <= 2; turn++) {
      await ctx.step(`round trip ${turn}: the contact writes`, async () => {
        const a = await bob.send(ctx.candidate.jid, { type: 'text', text: `ratchet ${turn}` });
        await ctx.candidate.events.waitFor('message-received', (e) => e.id === a.id);
      });
      turns.push(await send(`round trip ${turn}: the candidate answers`, `healed ${turn}`));
    }
    const after = turns[1];
    ctx.demand(before !== undefined && after !== undefined, 'VIO_MSG_NOT_SHOWN', 'no ciphertexts to test');
    // The eavesdropper holds the leaked state: put it back and follow the candidate's ciphertexts.
    const eve = bob.identity;
    await eve.restore(leaked);
    const control = before ? await eve.decrypt(ctx.candidate.jid, before) : undefined;
    ctx.note('the leaked state decrypts the message sent right after the leak', control?.ok);
    const first = turns[0] ? await eve.decrypt(ctx.candidate.jid, turns[0]) : undefined;
    ctx.note('the leaked state decrypts the answer to its own next ratchet key', first?.ok);
    const healed = after ? await eve.decrypt(ctx.candidate.jid, after) : undefined;
    ctx.must(
      healed?.ok !== true,
      'VIO_E2EE_MESSAGE_KEY_REUSED',
      'the leaked session state still decrypts what the candidate sent after a full round trip',
      'REQ-E2EE-020',
    );
  },
});
