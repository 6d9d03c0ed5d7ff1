import type { MediaFixture } from '../../../harness/driver/contract.ts';
import type { RequirementId } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';

interface V {
  readonly type: 'image' | 'audio' | 'video' | 'document';
  readonly file: MediaFixture;
  readonly mimetype: string;
  readonly requirement: RequirementId;
}

export default defineScenario<V>({
  id: 'MEDIA-SEND-001',
  title:
    "The candidate's media is encrypted with its type's keys, described exactly and uploaded to the media host",
  requirements: [
    'REQ-MEDIA-001',
    'REQ-MEDIA-002',
    'REQ-MEDIA-003',
    'REQ-MEDIA-005',
    'REQ-MEDIA-014',
    'REQ-MEDIA-015',
    'REQ-MEDIA-016',
    'REQ-MEDIA-017',
  ],
  level: 'MUST',
  kind: 'conformance',
  features: ['send-media'],
  variants: {
    image: { type: 'image', file: 'photo.jpg', mimetype: 'image/jpeg', requirement: 'REQ-MEDIA-001' },
    video: { type: 'video', file: 'clip.mp4', mimetype: 'video/mp4', requirement: 'REQ-MEDIA-002' },
    audio: { type: 'audio', file: 'voice.ogg', mimetype: 'audio/ogg', requirement: 'REQ-MEDIA-003' },
    document: {
      type: 'document',
      file: 'document.pdf',
      mimetype: 'application/pdf',
      requirement: 'REQ-MEDIA-005',
    },
  },
  async run(ctx) {
    const v = ctx.variant;
    const jid = ctx.candidate.jid;
    const bob = await ctx.peer();
    const file = fixtureBytes(v.file);
    const seq = ctx.server.transcript.seq;
    const since = ctx.candidate.events.cursor;
    const { id } = await ctx.step(`the candidate sends ${v.type}`, () =>
      ctx.candidate.driver.send({
        to: bob.jid,
        content:
          v.type === 'document'
            ? { type: 'document', media: { fixture: v.file }, fileName: v.file }
            : { type: v.type, media: { fixture: v.file } },
      }),
    );
    // A candidate whose upload failed reports the send as failed: that ends the wait too.
    const outcome = await ctx.step('the WhatsApp user downloads, checks and decrypts it', () =>
      Promise.race([
        bob.events.waitFor('message', (e) => e.id === id),
        bob.events.waitFor('message-rejected', (e) => e.id === id),
        ctx.candidate.events.waitFor('send-failed', (e) => e.id === id, { since }),
      ]),
    );
    const uploads = ctx.server.transcript
      .slice(seq)
      .filter((e) => e.kind === 'event' && e.event === 'media_upload' && e.address === jid);
    ctx.must(
      uploads.some((e) => e.kind === 'event' && e.detail?.status === 200),
      'VIO_MEDIA_NOT_UPLOADED',
      `no accepted upload to the server's media host (${uploads.length} attempts)`,
      'REQ-MEDIA-017',
    );
    if (outcome.type === 'send-failed') {
      ctx.must(
        false,
        'VIO_MSG_NOT_SHOWN',
        `the candidate could not send it: ${outcome.reason}`,
        v.requirement,
      );
      return;
    }
    if (outcome.type === 'message-rejected') {
      ctx.must(false, outcome.code, `the WhatsApp user refused the media: ${outcome.message}`, v.requirement);
      return;
    }
    const content = outcome.content;
    ctx.must(
      content.type === v.type,
      'VIO_MSG_CONTENT_MISMATCH',
      `decrypted as ${content.type}`,
      v.requirement,
    );
    ctx.must(
      outcome.file !== undefined && sha256hex(outcome.file) === sha256hex(file),
      'VIO_MSG_CONTENT_MISMATCH',
      'the decrypted file differs from the one sent',
      'REQ-MEDIA-015',
    );
    const mimetype = 'media' in content ? content.media.mimetype : '';
    ctx.must(
      mimetype === v.mimetype || mimetype.startsWith(`${v.mimetype};`),
      'VIO_MSG_CONTENT_MISMATCH',
      `declared mimetype ${mimetype}, the file is ${v.mimetype}`,
      'REQ-MEDIA-016',
    );
  },
});
