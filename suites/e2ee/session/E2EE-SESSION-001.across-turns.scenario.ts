import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { hex, sentMessages, shownOrRejected, untilWire } from '../../e2ee/wire.ts';

const TURNS = 4;

export default defineScenario({
  id: 'E2EE-SESSION-001',
  title:
    'The candidate sends pkmsg until the contact answers, then msg, and the session holds over many turns',
  requirements: ['REQ-E2EE-002', 'REQ-E2EE-003', 'REQ-E2EE-018', 'REQ-E2EE-019'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const ids = await ctx.step('the candidate sends twice before the contact answers', async () => {
      const a = await ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'one' } });
      const b = await ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'two' } });
      return [a.id, b.id];
    });
    const onWire = () => sentMessages(ctx, seq, bob.jid).filter((m) => ids.includes(m.id));
    await ctx.step('both reach the server', () => untilWire(() => onWire().length >= 2));
    const first = onWire();
    ctx.demand(first.length === 2, 'VIO_MSG_NOT_SHOWN', 'the candidate did not send both messages');
    ctx.must(
      first.every((m) => m.ct?.type === 'pkmsg'),
      'VIO_E2EE_WRONG_MESSAGE_TYPE',
      `before any answer the candidate sent ${first.map((m) => m.ct?.type).join(', ')}, not pkmsg`,
      'REQ-E2EE-002',
    );
    const keys = new Set<string>();
    const ratchets = new Set<string>();
    const record = (ct: (typeof first)[number]['ct']): { pair: string; ratchet: string } | undefined => {
      if (!ct) return undefined;
      const seen = inspectCiphertext(ct);
      if (!seen.ok) return undefined;
      return {
        pair: `${hex(seen.value.ratchetKey)}/${seen.value.counter}`,
        ratchet: hex(seen.value.ratchetKey),
      };
    };
    for (const m of first) {
      const r = record(m.ct);
      if (!r) continue;
      ctx.must(
        !keys.has(r.pair),
        'VIO_E2EE_MESSAGE_KEY_REUSED',
        'two messages carry the same ratchet key and counter: the message key was reused',
        'REQ-E2EE-018',
      );
      keys.add(r.pair);
      ratchets.add(r.ratchet);
    }
    ctx.demand(keys.size === 2, 'VIO_E2EE_MESSAGE_KEY_REUSED', 'the chain did not advance', 'REQ-E2EE-018');
    await ctx.step('the contact decrypts both', async () => {
      for (const id of ids) await bob.events.waitFor('message', (e) => e.id === id);
    });
    for (let turn = 1; turn <= TURNS; turn++) {
      const since = ctx.candidate.events.cursor;
      const outcome = await ctx.step(`turn ${turn}: the contact writes`, async () => {
        const sent = await bob.send(ctx.candidate.jid, { type: 'text', text: `bob ${turn}` });
        return shownOrRejected(ctx, sent.id, since);
      });
      // A refused message ends the conversation: the turns after it would only wait.
      ctx.demand(
        outcome.shown,
        'VIO_MSG_NOT_SHOWN',
        `turn ${turn}: the contact's message was refused${outcome.shown ? '' : ` as ${outcome.event.reason}`}`,
        'REQ-E2EE-003',
      );
      if (!outcome.shown) return;
      const fromBob = outcome.event;
      ctx.must(
        fromBob.content.text === `bob ${turn}`,
        'VIO_MSG_CONTENT_MISMATCH',
        `turn ${turn} shown as ${JSON.stringify(fromBob.content)}`,
        'REQ-E2EE-003',
      );
      const mark = ctx.server.transcript.seq;
      const { id } = await ctx.step(`turn ${turn}: the candidate answers`, () =>
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: `reply ${turn}` } }),
      );
      await ctx.step(`turn ${turn}: the answer reaches the server`, () =>
        untilWire(() => sentMessages(ctx, mark, bob.jid).some((m) => m.id === id)),
      );
      const answer = sentMessages(ctx, mark, bob.jid).find((m) => m.id === id);
      ctx.must(
        answer?.ct?.type === 'msg',
        'VIO_E2EE_WRONG_MESSAGE_TYPE',
        `after the contact answered, turn ${turn} went as ${answer?.ct?.type ?? 'nothing'}, not msg`,
        'REQ-E2EE-002',
      );
      const r = record(answer?.ct);
      if (r) {
        ctx.must(
          !ratchets.has(r.ratchet),
          'VIO_E2EE_MESSAGE_KEY_REUSED',
          `turn ${turn} reuses a ratchet key: no DH ratchet step after the contact's new ratchet key`,
          'REQ-E2EE-019',
        );
        ctx.must(
          !keys.has(r.pair),
          'VIO_E2EE_MESSAGE_KEY_REUSED',
          'a message key was reused',
          'REQ-E2EE-018',
        );
        ratchets.add(r.ratchet);
        keys.add(r.pair);
      }
      const got = await ctx.step(`turn ${turn}: the contact decrypts the answer`, () =>
        bob.events.waitFor('message', (e) => e.id === id),
      );
      ctx.must(
        got.content.type === 'text' && got.content.text === `reply ${turn}`,
        'VIO_MSG_CONTENT_MISMATCH',
        `turn ${turn} decrypted as ${JSON.stringify(got.content)}`,
        'REQ-E2EE-003',
      );
    }
  },
});
