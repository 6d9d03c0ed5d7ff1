import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { el } from '../../../harness/xml/node.ts';

type Build = (from: string, t: string) => StanzaNode;

const variants: Record<string, { readonly build: Build }> = {
  'message-without-enc': {
    build: (from, t) => el('message', { from, id: '3EB0BAD0000000000001', t, type: 'text' }),
  },
  'message-without-id': {
    build: (from, t) =>
      el('message', { from, t, type: 'text' }, [
        el('enc', { type: 'msg', v: '2' }, Uint8Array.of(0x33, 1, 2, 3)),
      ]),
  },
  'enc-unknown-type': {
    build: (from, t) =>
      el('message', { from, id: '3EB0BAD0000000000002', t, type: 'text' }, [
        el('enc', { type: 'skmsg', v: '2' }, Uint8Array.of(0x33, 1, 2, 3)),
      ]),
  },
  'enc-garbage-ciphertext': {
    build: (from, t) =>
      el('message', { from, id: '3EB0BAD0000000000003', t, type: 'text' }, [
        el(
          'enc',
          { type: 'pkmsg', v: '2' },
          Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
        ),
      ]),
  },
  'receipt-without-id': { build: (from, t) => el('receipt', { from, t, type: 'read' }) },
  'notification-without-children': {
    build: (_from, t) => el('notification', { from: 's.whatsapp.net', id: 'n-bad-1', t, type: 'encrypt' }),
  },
  'iq-without-id': {
    build: () => el('iq', { from: 's.whatsapp.net', type: 'get', xmlns: 'w:p' }, [el('ping')]),
  },
};

export default defineScenario<{ readonly build: Build }>({
  id: 'ROBUST-MALFORMED-001',
  title: 'Known stanzas with missing or invalid parts show nothing and the candidate keeps working',
  requirements: ['REQ-ROBUST-001', 'REQ-ROBUST-008'],
  level: 'MUST',
  kind: 'robustness',
  variants,
  async run(ctx) {
    const alice = await ctx.peer();
    await ctx.step('a session from the WhatsApp user', () => ctx.fence(alice));
    const since = ctx.candidate.events.cursor;
    await ctx.step('the server delivers a stanza with missing or invalid parts', () =>
      ctx.server.core.inject(
        ctx.candidate.jid,
        ctx.variant.build(alice.jid, String(ctx.server.clock.seconds())),
      ),
    );
    const fenced = await ctx.step('a fence message is still shown', () =>
      ctx.fence(alice).then(
        () => true,
        () => false,
      ),
    );
    ctx.must(fenced, 'VIO_ROBUST_FENCE_MISSED', 'no message was shown after the stanza');
    const shown = ctx.candidate.events
      .of('message-received', since)
      .filter((e) => e.id.startsWith('3EB0BAD'));
    ctx.must(shown.length === 0, 'VIO_ROBUST_INVALID_SHOWN', `the invalid stanza was shown: ${shown[0]?.id}`);
  },
});
