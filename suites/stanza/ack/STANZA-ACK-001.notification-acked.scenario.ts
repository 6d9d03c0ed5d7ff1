import { defineScenario } from '../../../harness/scenario/define.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

export default defineScenario({
  id: 'STANZA-ACK-001',
  title: 'A notification from the server is acked once with its id, class and type',
  requirements: ['REQ-STANZA-004'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const seq = ctx.server.transcript.seq;
    await ctx.step('the server sends a prekey count notification', () =>
      ctx.server.core.forceLowPreKeys(jid),
    );
    const sent = ctx.server.transcript
      .slice(seq)
      .flatMap((e) =>
        e.kind === 'frame' &&
        e.direction === 's2c' &&
        e.address === jid &&
        e.stanza.startsWith('<notification')
          ? [parseStanza(e.stanza)]
          : [],
      )
      .flatMap((p) => (p.ok ? [p.node] : []));
    const note = sent[0];
    ctx.demand(note !== undefined, 'VIO_STANZA_NOT_ACKED', 'no notification was delivered (setup)');
    const id = note?.attrs.id ?? '';
    const acks = await ctx.step('the candidate acks it', async () => {
      for (let i = 0; i < 100; i++) {
        const found = ctx.server.transcript
          .slice(seq)
          .flatMap((e) =>
            e.kind === 'frame' && e.direction === 'c2s' && e.address === jid && e.stanza.startsWith('<ack')
              ? [parseStanza(e.stanza)]
              : [],
          )
          .flatMap((p) => (p.ok && p.node.attrs.id === id ? [p.node] : []));
        if (found.length > 0) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      return [];
    });
    ctx.must(acks.length === 1, 'VIO_STANZA_NOT_ACKED', `notification ${id} acked ${acks.length} times`);
    const ack = acks[0];
    ctx.must(
      ack === undefined || (ack.attrs.class === 'notification' && ack.attrs.type === note?.attrs.type),
      'VIO_STANZA_NOT_ACKED',
      `the ack has class=${ack?.attrs.class} type=${ack?.attrs.type}`,
    );
  },
});
