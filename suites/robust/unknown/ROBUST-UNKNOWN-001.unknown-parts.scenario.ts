import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { el } from '../../../harness/xml/node.ts';

type Extra = 'message-attribute' | 'message-child' | 'enc-attribute' | 'enc-sibling-and-attribute';

export default defineScenario<{ readonly extra: Extra }>({
  id: 'ROBUST-UNKNOWN-001',
  title: 'A message with attributes and children the candidate does not know is still shown',
  requirements: ['REQ-ROBUST-004', 'REQ-ROBUST-008'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    'message-attribute': { extra: 'message-attribute' },
    'message-child': { extra: 'message-child' },
    'enc-attribute': { extra: 'enc-attribute' },
    'enc-sibling-and-attribute': { extra: 'enc-sibling-and-attribute' },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    await ctx.step('a session from the WhatsApp user', () => ctx.fence(alice));
    const text = `unknown parts: ${ctx.variant.extra}`;
    const id = `3EB0${Date.now().toString(16).toUpperCase().padStart(18, '0')}`;
    const ct = await alice.identity.encrypt(jid, encodePlaintext({ type: 'text', text }));
    const x = ctx.variant.extra;
    const encAttrs: Record<string, string> = { type: ct.type, v: '2' };
    if (x === 'enc-attribute' || x === 'enc-sibling-and-attribute') encAttrs['x-future'] = 'yes';
    const children: StanzaNode[] = [el('enc', encAttrs, ct.bytes)];
    if (x === 'message-child') children.push(el('meta', { hint: 'future' }, [el('detail', { level: '1' })]));
    if (x === 'enc-sibling-and-attribute') children.unshift(el('biz', { v: '1' }));
    const attrs: Record<string, string> = {
      from: alice.jid,
      id,
      t: String(ctx.server.clock.seconds()),
      type: 'text',
    };
    if (x === 'message-attribute' || x === 'enc-sibling-and-attribute') attrs['x-edit'] = '7';
    const since = ctx.candidate.events.cursor;
    await ctx.step('the server delivers it with parts the profile does not define', () =>
      ctx.server.core.inject(jid, el('message', attrs, children)),
    );
    const fenced = await ctx.step('a fence after it', () =>
      ctx.fence(alice).then(
        () => true,
        () => false,
      ),
    );
    ctx.must(fenced, 'VIO_ROBUST_FENCE_MISSED', 'no message was shown after the stanza', 'REQ-ROBUST-008');
    const shown = ctx.candidate.events.of('message-received', since).find((e) => e.id === id);
    ctx.must(shown !== undefined, 'VIO_MSG_NOT_SHOWN', `the message with ${x} was not shown`);
    ctx.must(
      shown === undefined || shown.content.text === text,
      'VIO_MSG_CONTENT_MISMATCH',
      `shown as ${JSON.stringify(shown?.content)}`,
    );
  },
});
