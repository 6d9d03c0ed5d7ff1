import type { MediaFixture } from '../../../harness/driver/contract.ts';
import type { RequirementId } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';

interface V {
  readonly type: 'image' | 'voice' | 'audio' | 'video' | 'document';
  readonly file: MediaFixture;
  readonly requirement: RequirementId;
}

export default defineScenario<V>({
  id: 'MSG-MEDIA-001',
  title: 'Media from a WhatsApp user is downloaded, checked and shown with the exact file',
  requirements: ['REQ-MSG-005', 'REQ-MSG-007', 'REQ-MSG-009', 'REQ-MSG-011', 'REQ-MSG-013', 'REQ-MEDIA-006'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    image: { type: 'image', file: 'photo.jpg', requirement: 'REQ-MSG-005' },
    voice: { type: 'voice', file: 'voice.ogg', requirement: 'REQ-MSG-007' },
    audio: { type: 'audio', file: 'voice.ogg', requirement: 'REQ-MSG-009' },
    video: { type: 'video', file: 'clip.mp4', requirement: 'REQ-MSG-011' },
    document: { type: 'document', file: 'document.pdf', requirement: 'REQ-MSG-013' },
  },
  async run(ctx) {
    const v = ctx.variant;
    const alice = await ctx.peer();
    const file = fixtureBytes(v.file);
    const sent = await ctx.step(`a WhatsApp user sends ${v.type}`, () =>
      alice.send(ctx.candidate.jid, {
        type: v.type,
        file,
        ...(v.type === 'document' ? { fileName: v.file } : {}),
      }),
    );
    const shown = await ctx.step('the candidate shows it', () =>
      ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id),
    );
    const media = shown.content.media;
    ctx.must(
      shown.content.type === v.type,
      'VIO_MSG_CONTENT_MISMATCH',
      `shown as ${shown.content.type}`,
      v.requirement,
    );
    ctx.must(
      media?.sha256 === sha256hex(file),
      'VIO_MSG_CONTENT_MISMATCH',
      'the shown file differs from the sent one',
      v.requirement,
    );
    ctx.must(
      media?.size === file.length,
      'VIO_MSG_CONTENT_MISMATCH',
      `size ${media?.size} instead of ${file.length}`,
      v.requirement,
    );
    const sentMime = 'media' in sent.content ? sent.content.media.mimetype : '';
    ctx.must(
      media?.mimetype === sentMime,
      'VIO_MSG_CONTENT_MISMATCH',
      `mimetype ${media?.mimetype}`,
      v.requirement,
    );
  },
});
