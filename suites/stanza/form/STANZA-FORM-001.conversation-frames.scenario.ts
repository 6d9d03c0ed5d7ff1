import { defineScenario } from '../../../harness/scenario/define.ts';
import { candidateSent, pollUntil } from '../../../harness/scenario/wire.ts';
import type { FrameEntry } from '../../../harness/server/types.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { childrenOf } from '../../../harness/xml/node.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

const MESSAGE_TYPES = new Set(['text', 'media', 'reaction']);

export default defineScenario({
  id: 'STANZA-FORM-001',
  title: 'Every stanza the candidate sends in a conversation is well formed, schema-valid and without from',
  requirements: ['REQ-STANZA-001', 'REQ-STANZA-002', 'REQ-STANZA-003', 'REQ-STANZA-005', 'REQ-STANZA-007'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const ids: string[] = [];
    await ctx.step('the candidate sends a text, a reply and a reaction', async () => {
      for (const content of [
        { type: 'text', text: 'frames' } as const,
        { type: 'reply', text: 'quoted', quotedId: '3EB0000000000000000042' } as const,
        { type: 'reaction', targetId: '3EB0000000000000000042', emoji: '👍' } as const,
      ]) {
        const { id } = await ctx.candidate.driver.send({ to: bob.jid, content });
        ids.push(id);
      }
    });
    const received = await ctx.step('a WhatsApp user writes; the candidate reads it and types', async () => {
      const m = await bob.send(jid, { type: 'text', text: 'read me' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      await ctx.candidate.driver.read({ from: bob.jid, ids: [m.id] });
      await ctx.candidate.driver.typing({ to: bob.jid, state: 'composing' });
      return m.id;
    });
    // Decide on the wire: wait until the last message is on it, then judge every frame.
    const last = ids[ids.length - 1] ?? '';
    await ctx.step('the messages reach the server', () =>
      pollUntil(
        () =>
          ctx.server.transcript
            .slice(seq)
            .some(
              (e) =>
                e.kind === 'frame' && e.direction === 'c2s' && e.address === jid && e.stanza.includes(last),
            ),
        3_000,
      ),
    );
    await ctx.step('a fence from the WhatsApp user', () => ctx.fence(bob));
    // The candidate showing the fence proves it handled the message before it, not that its ack
    // has crossed the socket yet: the server may read the ack a moment after the driver reports.
    await ctx.step('the ack of the read message reaches the server', () =>
      pollUntil(() => candidateSent(ctx, seq, 'ack').some((f) => f.node.attrs.id === received)),
    );
    const frames = ctx.server.transcript
      .slice(seq)
      .filter((e): e is FrameEntry => e.kind === 'frame' && e.direction === 'c2s' && e.address === jid);
    for (const f of frames) {
      for (const v of f.violations) {
        ctx.must(false, v.code, `${v.message} in ${f.stanza.slice(0, 160)}`, 'REQ-STANZA-001');
      }
    }
    const nodes: StanzaNode[] = [];
    for (const f of frames) {
      const p = parseStanza(f.stanza);
      if (p.ok) nodes.push(p.node);
    }
    for (const n of nodes) {
      ctx.must(
        n.attrs.from === undefined,
        'VIO_STANZA_WRONG_DIRECTION',
        `a ${n.tag} carries from="${n.attrs.from}"`,
        'REQ-STANZA-001',
      );
    }
    const messages = nodes.filter((n) => n.tag === 'message');
    for (const id of ids) {
      const mine = messages.filter((n) => n.attrs.id === id);
      // A frame that did not parse was reported above with its own violation.
      const unreadable = frames.some((f) => f.violations.length > 0 && f.stanza.includes(id));
      if (!unreadable) {
        ctx.must(
          mine.length === 1,
          'VIO_SCHEMA_BAD_ID',
          `message ${id} sent ${mine.length} times`,
          'REQ-STANZA-007',
        );
      }
      const m = mine[0];
      if (!m) continue;
      ctx.must(
        m.attrs.to === bob.jid && MESSAGE_TYPES.has(m.attrs.type ?? ''),
        'VIO_SCHEMA_BAD_ATTR_VALUE',
        `message ${id} has to=${m.attrs.to} type=${m.attrs.type}`,
        'REQ-STANZA-001',
      );
      const encs = childrenOf(m).filter((c) => c.tag === 'enc');
      ctx.must(
        encs.length === 1,
        'VIO_SCHEMA_CHILD_COUNT',
        `message ${id} has ${encs.length} enc`,
        'REQ-STANZA-001',
      );
      const enc = encs[0];
      ctx.must(
        enc?.attrs.v === '2' && (enc.attrs.type === 'pkmsg' || enc.attrs.type === 'msg'),
        'VIO_SCHEMA_BAD_ATTR_VALUE',
        `enc of ${id} has v=${enc?.attrs.v} type=${enc?.attrs.type}`,
        'REQ-STANZA-002',
      );
    }
    ctx.must(
      new Set(ids).size === ids.length,
      'VIO_SCHEMA_BAD_ID',
      `message ids reused: ${ids.join(', ')}`,
      'REQ-STANZA-007',
    );
    const iqIds = nodes
      .filter((n) => n.tag === 'iq' && (n.attrs.type === 'get' || n.attrs.type === 'set'))
      .map((n) => n.attrs.id ?? '');
    const dup = iqIds.filter((id, i) => iqIds.indexOf(id) !== i);
    ctx.must(dup.length === 0, 'VIO_SCHEMA_BAD_ID', `iq ids used twice: ${dup.join(', ')}`, 'REQ-STANZA-005');
    const acked = nodes.some(
      (n) => n.tag === 'ack' && n.attrs.class === 'message' && n.attrs.id === received,
    );
    ctx.must(acked, 'VIO_STANZA_NOT_ACKED', `the message ${received} was never acked`, 'REQ-STANZA-003');
  },
});
