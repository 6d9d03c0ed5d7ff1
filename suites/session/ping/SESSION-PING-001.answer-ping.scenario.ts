import { defineScenario } from '../../../harness/scenario/define.ts';
import { el } from '../../../harness/xml/node.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

/** The profile's answer deadline (PROFILE.md §5.12). */
const ANSWER_MS = 10_000;

export default defineScenario({
  id: 'SESSION-PING-001',
  title: "The candidate answers the server's ping with a result of the same id",
  requirements: ['REQ-SESSION-010'],
  level: 'MUST',
  kind: 'conformance',
  timeoutMs: ANSWER_MS + 5_000,
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    const id = `ping-${ctx.profile}-${Date.now().toString(36)}`;
    const seq = ctx.server.transcript.seq;
    await ctx.step('the server pings the candidate', () =>
      ctx.server.core.inject(
        jid,
        el('iq', { id, xmlns: 'w:p', type: 'get', from: 's.whatsapp.net' }, [el('ping')]),
      ),
    );
    await ctx.step('a fence message after the ping is shown', () => ctx.fence(alice));
    const answer = await ctx.step('the candidate answers the ping', async () => {
      const deadline = Date.now() + ANSWER_MS;
      while (Date.now() < deadline) {
        const frame = ctx.server.transcript
          .slice(seq)
          .find(
            (e) =>
              e.kind === 'frame' &&
              e.direction === 'c2s' &&
              e.address === jid &&
              e.stanza.startsWith('<iq') &&
              e.stanza.includes(`id="${id}"`),
          );
        if (frame && frame.kind === 'frame') return parseStanza(frame.stanza);
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    });
    ctx.demand(
      answer !== undefined,
      'VIO_TRANSPORT_PING_TIMEOUT',
      `no answer to the ping within ${ANSWER_MS / 1000} s`,
    );
    const attrs = answer?.ok ? answer.node.attrs : {};
    ctx.must(
      attrs.type === 'result' && attrs.to === 's.whatsapp.net',
      'VIO_TRANSPORT_PING_TIMEOUT',
      `the answer is type=${attrs.type} to=${attrs.to}, not a result to s.whatsapp.net`,
    );
  },
});
