import { uploadToNodes } from '../../../harness/crypto/bundle.ts';
import { decodePlaintext, encodePlaintext } from '../../../harness/crypto/padding.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import type { FrameEntry } from '../../../harness/server/types.ts';
import { bytesOf, child } from '../../../harness/xml/node.ts';
import { parseStanza } from '../../../harness/xml/parse.ts';

/** Registration ids over 2^31 and prekey ids at the top of the 24-bit range (PROFILE.md §5.3). */
const REGISTRATION_ID = 0xfffffff0;
const FIRST_PREKEY_ID = 0xfffffe;
const SIGNED_PREKEY_ID = 0xfffffd;

export default defineScenario<{ readonly direction: 'receive' | 'send' }>({
  id: 'ROBUST-IDS-001',
  title:
    'A contact whose registration and prekey ids use the top of their ranges can talk with the candidate',
  requirements: ['REQ-ROBUST-009'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    'first-message-from-contact': { direction: 'receive' },
    'first-message-to-contact': { direction: 'send' },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    // The peer's link and address, with keys made here: ctx.peer() takes no id options.
    const carrier = await ctx.peer();
    const keys = await ctx.peerProfile.createIdentity({
      registrationId: REGISTRATION_ID,
      preKeyCount: 2,
      firstPreKeyId: FIRST_PREKEY_ID,
      signedPreKeyId: SIGNED_PREKEY_ID,
    });
    await ctx.step('the contact uploads keys with ids at the top of their ranges', () =>
      carrier.iq({ xmlns: 'encrypt', type: 'set' }, uploadToNodes(keys.keyUpload())),
    );
    if (ctx.variant.direction === 'receive') {
      const bundle = await ctx.step("the contact fetches the candidate's bundle", () =>
        carrier.fetchBundle(jid),
      );
      const built = await keys.processBundle(jid, bundle);
      ctx.demand(built.ok, 'VIO_KEYS_REFUSED', 'the harness could not build a session (setup)');
      const text = 'registration id over 2^31';
      const ct = await keys.encrypt(jid, encodePlaintext({ type: 'text', text }));
      const since = ctx.candidate.events.cursor;
      const id = carrier.sendRaw(jid, ct);
      const outcome = await ctx.step('the candidate shows the first message', () =>
        Promise.race([
          ctx.candidate.events.waitFor('message-received', (e) => e.id === id, { since }),
          ctx.candidate.events.waitFor('message-rejected', (e) => e.id === id, { since }),
        ]),
      );
      ctx.must(
        outcome.type === 'message-received' && outcome.content.text === text,
        'VIO_MSG_NOT_SHOWN',
        outcome.type === 'message-rejected'
          ? `refused as ${outcome.reason}`
          : `shown as ${JSON.stringify(outcome.content)}`,
      );
      return;
    }
    const seq = ctx.server.transcript.seq;
    const text = 'prekey ids at the top of 24 bits';
    const { id } = await ctx.step('the candidate sends its first message to the contact', () =>
      ctx.candidate.driver.send({ to: carrier.jid, content: { type: 'text', text } }),
    );
    const frame = await ctx.step('the message reaches the server', async () => {
      for (let i = 0; i < 150; i++) {
        const f = ctx.server.transcript
          .slice(seq)
          .find(
            (e): e is FrameEntry =>
              e.kind === 'frame' &&
              e.direction === 'c2s' &&
              e.address === jid &&
              e.stanza.startsWith('<message') &&
              e.stanza.includes(`id="${id}"`),
          );
        if (f) return f;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    });
    ctx.must(frame !== undefined, 'VIO_MSG_NOT_SHOWN', 'the candidate never sent the message');
    const node = frame ? parseStanza(frame.stanza) : undefined;
    const enc = node?.ok ? child(node.node, 'enc') : undefined;
    const bytes = bytesOf(enc);
    const type = enc?.attrs.type;
    if (!bytes || (type !== 'pkmsg' && type !== 'msg')) {
      ctx.must(false, 'VIO_CRYPTO_INVALID_MESSAGE', `no readable enc in the message (${type})`);
      return;
    }
    const seen = ctx.peerProfile.inspect({ type, bytes });
    ctx.note(
      'ids the candidate used',
      seen.ok ? { preKeyId: seen.value.preKeyId, signedPreKeyId: seen.value.signedPreKeyId } : seen,
    );
    const plain = await keys.decrypt(jid, { type, bytes });
    const decoded = plain.ok ? decodePlaintext(plain.value) : undefined;
    ctx.must(
      decoded?.ok === true && decoded.content.type === 'text' && decoded.content.text === text,
      'VIO_MSG_CONTENT_MISMATCH',
      plain.ok ? 'the message decrypts to other content' : `the contact cannot decrypt it: ${plain.message}`,
    );
  },
});
