import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { el } from '../../../harness/xml/node.ts';

export default defineScenario<{ readonly node: StanzaNode }>({
  id: 'ROBUST-UNKNOWN-002',
  title: 'Stanza kinds the profile does not define are ignored and the candidate keeps working',
  requirements: ['REQ-ROBUST-003', 'REQ-ROBUST-008'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    call: { node: el('call', { from: '491700000999@s.whatsapp.net', id: 'c-1', t: '1' }, [el('offer', {})]) },
    future: { node: el('hologram', { from: 's.whatsapp.net', id: 'h-1' }, [el('frame', { n: '1' })]) },
    'empty-unknown': { node: el('x', {}) },
  },
  async run(ctx) {
    const alice = await ctx.peer();
    await ctx.step('a session from the WhatsApp user', () => ctx.fence(alice));
    const since = ctx.candidate.events.cursor;
    await ctx.step('the server sends a stanza of an unknown kind', () =>
      ctx.server.core.inject(ctx.candidate.jid, ctx.variant.node),
    );
    // A candidate whose stanza loop died never shows the fence: a finding, not a timeout.
    const fenced = await ctx.step('a fence message is still shown', () =>
      ctx.fence(alice).then(
        () => true,
        () => false,
      ),
    );
    ctx.must(
      fenced,
      'VIO_ROBUST_FENCE_MISSED',
      `no message was shown after a <${ctx.variant.node.tag}> stanza`,
    );
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.from !== alice.jid);
    ctx.must(shown.length === 0, 'VIO_ROBUST_INVALID_SHOWN', 'something from the unknown stanza was shown');
  },
});
