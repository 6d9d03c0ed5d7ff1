import type { MediaFixture } from '../../../harness/driver/contract.ts';
import type { RequirementId } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';
import { child } from '../../../harness/xml/node.ts';
import { candidateSent, peerOutcome } from '../../rcpt/wire.ts';

interface V {
  readonly type: 'image' | 'audio' | 'video' | 'document';
  readonly file: MediaFixture;
  readonly mimetype: string;
  readonly mediatype: string;
  readonly caption?: string;
  readonly fileName?: string;
  readonly requirement: RequirementId;
}

export default defineScenario<V>({
  id: 'MSG-MEDIA-002',
  title: 'Media the candidate sends decrypts at a WhatsApp user to the exact file, with its details',
  requirements: ['REQ-MSG-006', 'REQ-MSG-010', 'REQ-MSG-012', 'REQ-MSG-014'],
  level: 'MUST',
  kind: 'conformance',
  features: ['send-media'],
  variants: {
    image: {
      type: 'image',
      file: 'photo.jpg',
      mimetype: 'image/jpeg',
      mediatype: 'image',
      caption: 'Sunset 🌅 über dem Meer',
      requirement: 'REQ-MSG-006',
    },
    audio: {
      type: 'audio',
      file: 'voice.ogg',
      mimetype: 'audio/ogg; codecs=opus',
      mediatype: 'audio',
      requirement: 'REQ-MSG-010',
    },
    video: {
      type: 'video',
      file: 'clip.mp4',
      mimetype: 'video/mp4',
      mediatype: 'video',
      caption: 'a short clip',
      requirement: 'REQ-MSG-012',
    },
    document: {
      type: 'document',
      file: 'document.pdf',
      mimetype: 'application/pdf',
      mediatype: 'document',
      fileName: 'Quarterly report.pdf',
      requirement: 'REQ-MSG-014',
    },
  },
  async run(ctx) {
    const v = ctx.variant;
    const req = v.requirement;
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const media = { fixture: v.file };
    const content =
      v.type === 'image' || v.type === 'video'
        ? { type: v.type, media, ...(v.caption ? { caption: v.caption } : {}) }
        : v.type === 'document'
          ? { type: v.type, media, ...(v.fileName ? { fileName: v.fileName } : {}) }
          : { type: v.type, media };
    const { id } = await ctx.step(`the candidate sends ${v.type}`, () =>
      ctx.candidate.driver.send({ to: bob.jid, content }),
    );
    const outcome = await ctx.step('the WhatsApp user downloads and decrypts it', () => peerOutcome(bob, id));
    if ('rejected' in outcome) {
      ctx.must(
        false,
        outcome.rejected.code,
        `the WhatsApp user refused it: ${outcome.rejected.message}`,
        req,
      );
      return;
    }
    const got = outcome.message;
    const c = got.content;
    ctx.must(c.type === v.type, 'VIO_MSG_CONTENT_MISMATCH', `decrypted as ${c.type}`, req);
    const file = fixtureBytes(v.file);
    ctx.must(
      got.file !== undefined && sha256hex(got.file) === sha256hex(file),
      'VIO_MSG_CONTENT_MISMATCH',
      'the decrypted file differs from the one the user chose',
      req,
    );
    if ('media' in c) {
      ctx.must(
        c.media.mimetype === v.mimetype,
        'VIO_MSG_CONTENT_MISMATCH',
        `mimetype ${c.media.mimetype}`,
        req,
      );
      ctx.must(
        c.media.fileLength === file.length,
        'VIO_MSG_CONTENT_MISMATCH',
        `fileLength ${c.media.fileLength}`,
        req,
      );
    }
    if (v.caption !== undefined) {
      const caption = c.type === 'image' || c.type === 'video' ? c.caption : undefined;
      ctx.must(caption === v.caption, 'VIO_MSG_CONTENT_MISMATCH', `caption ${JSON.stringify(caption)}`, req);
    }
    if (v.fileName !== undefined) {
      const doc = c.type === 'document' ? c : undefined;
      ctx.must(doc?.fileName === v.fileName, 'VIO_MSG_CONTENT_MISMATCH', `fileName ${doc?.fileName}`, req);
      ctx.must(doc?.title !== undefined, 'VIO_MSG_CONTENT_MISMATCH', 'no title', req);
    }
    const stanza = candidateSent(ctx, seq, 'message').find((f) => f.node.attrs.id === id);
    const enc = stanza && child(stanza.node, 'enc');
    ctx.must(
      stanza?.node.attrs.type === 'media' && enc?.attrs.mediatype === v.mediatype,
      'VIO_MSG_MEDIATYPE_MISMATCH',
      `sent as type ${stanza?.node.attrs.type ?? '(none)'}, mediatype ${enc?.attrs.mediatype ?? '(none)'}`,
      req,
    );
  },
});
