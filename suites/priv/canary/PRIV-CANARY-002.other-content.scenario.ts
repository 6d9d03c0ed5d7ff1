import { randomBytes } from 'node:crypto';
import type { SendContent } from '../../../harness/driver/contract.ts';
import type { Feature } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { wireNeedles } from '../../../harness/scenario/helpers.ts';
import { sentMessages, untilWire } from '../../e2ee/wire.ts';

interface V {
  /** The content to send, holding the secret; `target` is a message of the contact's. */
  readonly build: (secret: string, target: string) => SendContent;
  /** The feature the candidate must have for this content (the requirement itself is mandatory). */
  readonly needs?: Feature;
}

export default defineScenario<V>({
  id: 'PRIV-CANARY-002',
  title: 'Captions, file names and reactions never appear in the clear on the wire',
  requirements: ['REQ-PRIV-001', 'REQ-PRIV-007'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'image-caption': {
      build: (secret) => ({ type: 'image', media: { fixture: 'photo.jpg' }, caption: `${secret} caption` }),
      needs: 'send-media',
    },
    'video-caption': {
      build: (secret) => ({ type: 'video', media: { fixture: 'clip.mp4' }, caption: `${secret} caption` }),
      needs: 'send-media',
    },
    'document-name': {
      build: (secret) => ({
        type: 'document',
        media: { fixture: 'document.pdf' },
        fileName: `${secret}.pdf`,
      }),
      needs: 'send-media',
    },
    'reply-long': {
      build: (secret, target) => ({ type: 'reply', text: `${secret} ${secret} ${secret}`, quotedId: target }),
    },
  },
  async run(ctx) {
    const v = ctx.variant;
    if (v.needs && !ctx.candidate.manifest.features.includes(v.needs)) {
      ctx.note('not applicable', `the candidate does not declare ${v.needs}`);
      return;
    }
    const bob = await ctx.peer();
    const target = await ctx.step('the contact writes first', async () => {
      const m = await bob.send(ctx.candidate.jid, { type: 'text', text: 'something to answer' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return m.id;
    });
    // Short, so that even a prefix of the content (a preview) holds all of it.
    const secret = `cny${randomBytes(6).toString('hex')}`;
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate sends content holding a canary', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: v.build(secret, target) }),
    );
    await ctx.step('the message reaches the server', () =>
      untilWire(() => sentMessages(ctx, seq, bob.jid).some((m) => m.id === id)),
    );
    const needles = wireNeedles(secret);
    const leaks = ctx.server.transcript
      .slice(seq)
      .filter((e) => needles.some((n) => JSON.stringify(e).includes(n)));
    // A leak in a stanza breaks REQ-PRIV-001; one in a media upload request breaks REQ-PRIV-007.
    const inUploads = leaks.filter((e) => e.kind === 'event' && e.event === 'media_upload');
    const inStanzas = leaks.length - inUploads.length;
    ctx.must(
      inStanzas === 0,
      'VIO_PRIV_PLAINTEXT_LEAK',
      `the canary is visible in ${inStanzas} transcript entries`,
      'REQ-PRIV-001',
    );
    ctx.must(
      inUploads.length === 0,
      'VIO_PRIV_PLAINTEXT_LEAK',
      `the canary is visible in ${inUploads.length} media upload request(s)`,
      'REQ-PRIV-007',
    );
    if (leaks.length > 0) return;
    await ctx.step('the contact decrypts it', () => bob.events.waitFor('message', (e) => e.id === id));
  },
});
