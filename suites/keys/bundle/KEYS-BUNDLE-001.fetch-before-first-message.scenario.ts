import { defineScenario } from '../../../harness/scenario/define.ts';
import type { FrameEntry } from '../../../harness/server/types.ts';
import { bytesOf, child, childrenOf } from '../../../harness/xml/node.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

export default defineScenario({
  id: 'KEYS-BUNDLE-001',
  title:
    "Before its first message the candidate fetches the peer's bundle, with or without a one-time prekey",
  requirements: ['REQ-KEYS-005', 'REQ-KEYS-008'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    'one-time-prekey': { exhaust: false },
    'no-one-time-prekey': { exhaust: true },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const bob = await ctx.peer();
    if (ctx.variant.exhaust) {
      const n = await ctx.step('every one-time prekey of the peer is handed out', () =>
        ctx.server.core.exhaustPreKeys(bob.jid),
      );
      ctx.note('one-time prekeys handed out', n);
    }
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate sends its first message to the peer', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'first contact' } }),
    );
    // Decide on the wire: find the message frame before waiting on the peer.
    const frames = await ctx.step('the message reaches the server', async () => {
      for (let i = 0; i < 150; i++) {
        const mine = ctx.server.transcript
          .slice(seq)
          .filter((e): e is FrameEntry => e.kind === 'frame' && e.direction === 'c2s' && e.address === jid);
        if (mine.some((f) => f.stanza.startsWith('<message') && f.stanza.includes(`id="${id}"`))) return mine;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    });
    ctx.demand(
      frames !== undefined,
      'VIO_MSG_NOT_SHOWN',
      'the candidate never sent the message',
      'REQ-KEYS-008',
    );
    const nodes = (frames ?? []).map((f) => parseStanza(f.stanza)).flatMap((p) => (p.ok ? [p.node] : []));
    const msgAt = nodes.findIndex((n) => n.tag === 'message' && n.attrs.id === id);
    const fetchAt = nodes.findIndex(
      (n) =>
        n.tag === 'iq' &&
        n.attrs.xmlns === 'encrypt' &&
        n.attrs.type === 'get' &&
        childrenOf(child(n, 'key') ?? n).some((u) => u.tag === 'user' && u.attrs.jid === bob.jid),
    );
    ctx.must(
      fetchAt >= 0 && fetchAt < msgAt,
      'VIO_KEYS_NO_BUNDLE_FETCH',
      fetchAt < 0 ? "no bundle fetch naming the peer's address" : 'the bundle fetch came after the message',
      'REQ-KEYS-005',
    );
    const msg = nodes[msgAt];
    const enc = msg ? child(msg, 'enc') : undefined;
    const bytes = bytesOf(enc);
    if (bytes && (enc?.attrs.type === 'pkmsg' || enc?.attrs.type === 'msg')) {
      const seen = ctx.peerProfile.inspect({ type: enc.attrs.type, bytes });
      if (seen.ok) {
        ctx.note('first message', { type: seen.value.type, preKeyId: seen.value.preKeyId });
        // PROFILE.md §6: preKeyId is absent without a one-time prekey. A present 0 is a wire-form
        // matter outside REQ-KEYS-008 (the session still works), so it is recorded, not graded.
        if (ctx.variant.exhaust && seen.value.preKeyId !== undefined) {
          ctx.note('preKeyId present although the bundle held no one-time prekey', seen.value.preKeyId);
        }
      }
    }
    const got = await ctx.step('the peer decrypts it', () =>
      bob.events.waitFor('message', (e) => e.id === id),
    );
    ctx.must(
      got.content.type === 'text' && got.content.text === 'first contact',
      'VIO_MSG_CONTENT_MISMATCH',
      `decrypted ${JSON.stringify(got.content).slice(0, 200)}`,
      'REQ-KEYS-008',
    );
  },
});
