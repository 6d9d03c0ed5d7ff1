import { defineScenario } from '../../../harness/scenario/define.ts';
import { shownOrRejected } from '../../e2ee/wire.ts';

const TURNS = 3;

export default defineScenario({
  id: 'E2EE-SIMUL-001',
  title: 'When both sides start a session at once, both first messages decrypt and the conversation goes on',
  requirements: ['REQ-E2EE-001', 'REQ-E2EE-003'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const bob = await ctx.peer();
    const [mine, theirs] = await ctx.step('both send a first message at the same time', () =>
      Promise.all([
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'from the candidate' } }),
        bob.send(ctx.candidate.jid, { type: 'text', text: 'from the contact' }),
      ]),
    );
    const shown = await ctx.step("the candidate shows the contact's first message", () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === theirs.id),
    );
    ctx.must(
      shown.content.text === 'from the contact',
      'VIO_MSG_CONTENT_MISMATCH',
      `shown as ${JSON.stringify(shown.content)}`,
      'REQ-E2EE-001',
    );
    await ctx.step("the contact decrypts the candidate's first message", () =>
      bob.events.waitFor('message', (e) => e.id === mine.id),
    );
    for (let turn = 1; turn <= TURNS; turn++) {
      const { id } = await ctx.step(`turn ${turn}: the candidate writes`, () =>
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: `candidate ${turn}` } }),
      );
      const got = await ctx.step(`turn ${turn}: the contact decrypts`, () =>
        bob.events.waitFor('message', (e) => e.id === id),
      );
      ctx.must(
        got.content.type === 'text' && got.content.text === `candidate ${turn}`,
        'VIO_MSG_CONTENT_MISMATCH',
        `turn ${turn} decrypted as ${JSON.stringify(got.content)}`,
        'REQ-E2EE-003',
      );
      const since = ctx.candidate.events.cursor;
      const m = await bob.send(ctx.candidate.jid, { type: 'text', text: `contact ${turn}` });
      const outcome = await ctx.step(`turn ${turn}: the candidate decrypts the answer`, () =>
        shownOrRejected(ctx, m.id, since),
      );
      // A refusal ends the conversation: the turns after it would only wait.
      ctx.demand(
        outcome.shown,
        'VIO_MSG_NOT_SHOWN',
        `turn ${turn}: the contact's answer was refused${outcome.shown ? '' : ` as ${outcome.event.reason}`}`,
        'REQ-E2EE-003',
      );
      if (!outcome.shown) return;
      const back = outcome.event;
      ctx.must(
        back.content.text === `contact ${turn}`,
        'VIO_MSG_CONTENT_MISMATCH',
        `turn ${turn} shown as ${JSON.stringify(back.content)}`,
        'REQ-E2EE-003',
      );
    }
    const refused = ctx.candidate.events.of('message-rejected').filter((e) => e.from === bob.jid);
    ctx.note('messages from the contact refused along the way (recovered by retry)', refused.length);
  },
});
