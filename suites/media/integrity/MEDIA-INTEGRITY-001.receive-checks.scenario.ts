import { createCipheriv } from 'node:crypto';
import type { MediaRef } from '../../../harness/crypto/content.ts';
import { deriveMediaKeys, encryptMedia, mediaMac, sha256 } from '../../../harness/crypto/media.ts';
import type { RejectReason } from '../../../harness/driver/contract.ts';
import { httpMediaStore } from '../../../harness/peers/http-media.ts';
import type { RequirementId } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes } from '../../../harness/scenario/helpers.ts';

type Defect =
  | 'enc-hash'
  | 'enc-hash-and-mac'
  | 'mac-last'
  | 'mac-first'
  | 'padding'
  | 'plain-hash'
  | 'length'
  | 'wrong-media-key'
  | 'other-type-keys';

interface V {
  readonly defect: Defect;
  readonly reason: RejectReason;
  readonly requirement: RequirementId;
}

interface Built {
  readonly blob: Buffer;
  readonly media: Omit<MediaRef, 'directPath' | 'url'>;
}

const flip = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  const i = at < 0 ? c.length + at : at;
  c[i] = (c[i] ?? 0) ^ 0x01;
  return c;
};

/** An image blob and the description a message gives of it, with one defect. */
function build(defect: Defect, file: Uint8Array): Built {
  const enc = encryptMedia(file, 'image');
  const good = {
    mimetype: 'image/jpeg',
    fileSha256: enc.fileSha256,
    fileEncSha256: enc.fileEncSha256,
    fileLength: enc.fileLength,
    mediaKey: enc.mediaKey,
  };
  switch (defect) {
    case 'enc-hash':
      // The blob is genuine (its MAC verifies): only the enc hash check can refuse it.
      return { blob: enc.blob, media: { ...good, fileEncSha256: sha256(Buffer.from('another blob')) } };
    case 'enc-hash-and-mac':
      // Changed in transit: the hash and the MAC both fail; the hash comes first.
      return { blob: flip(enc.blob, 0), media: good };
    case 'mac-last':
    case 'mac-first': {
      const blob = flip(enc.blob, defect === 'mac-last' ? -1 : -10);
      return { blob, media: { ...good, fileEncSha256: sha256(blob) } };
    }
    case 'padding': {
      // Authentic ciphertext whose last block does not end in valid PKCS#7 padding.
      const keys = deriveMediaKeys(enc.mediaKey, 'image');
      const plain = Buffer.alloc(64, 0x41);
      plain[63] = 0x00;
      const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv).setAutoPadding(false);
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      const blob = Buffer.concat([ct, mediaMac(keys, ct)]);
      return {
        blob,
        media: { ...good, fileEncSha256: sha256(blob), fileSha256: sha256(plain), fileLength: plain.length },
      };
    }
    case 'plain-hash':
      return { blob: enc.blob, media: { ...good, fileSha256: sha256(Buffer.from('another file')) } };
    case 'length':
      return { blob: enc.blob, media: { ...good, fileLength: enc.fileLength + 1 } };
    case 'wrong-media-key':
      // An intact blob described with another key: only the MAC can tell.
      return { blob: enc.blob, media: { ...good, mediaKey: new Uint8Array(32).fill(0x5a) } };
    case 'other-type-keys': {
      // Encrypted with the Video keys and sent as an image: the Image keys' MAC fails (HKDF info).
      const video = encryptMedia(file, 'video', enc.mediaKey);
      return {
        blob: video.blob,
        media: { ...good, fileEncSha256: video.fileEncSha256 },
      };
    }
  }
}

export default defineScenario<V>({
  id: 'MEDIA-INTEGRITY-001',
  title: 'Received media that fails a check is refused at the first failing check, and nothing is shown',
  requirements: [
    'REQ-MEDIA-006',
    'REQ-MEDIA-007',
    'REQ-MEDIA-008',
    'REQ-MEDIA-009',
    'REQ-MEDIA-010',
    'REQ-MEDIA-011',
    'REQ-MEDIA-012',
    'REQ-MEDIA-013',
  ],
  level: 'MUST',
  kind: 'security',
  variants: {
    'enc-hash': { defect: 'enc-hash', reason: 'media-enc-hash', requirement: 'REQ-MEDIA-008' },
    'enc-hash-and-mac': {
      defect: 'enc-hash-and-mac',
      reason: 'media-enc-hash',
      requirement: 'REQ-MEDIA-007',
    },
    // All ten bytes count: a MAC wrong only in its last byte is still wrong.
    'mac-last-byte': { defect: 'mac-last', reason: 'media-mac', requirement: 'REQ-MEDIA-010' },
    'mac-first-byte': { defect: 'mac-first', reason: 'media-mac', requirement: 'REQ-MEDIA-009' },
    padding: { defect: 'padding', reason: 'media-decrypt', requirement: 'REQ-MEDIA-011' },
    'plain-hash': { defect: 'plain-hash', reason: 'media-plain-hash', requirement: 'REQ-MEDIA-012' },
    length: { defect: 'length', reason: 'media-length', requirement: 'REQ-MEDIA-013' },
    'wrong-media-key': { defect: 'wrong-media-key', reason: 'media-mac', requirement: 'REQ-MEDIA-009' },
    'other-type-keys': { defect: 'other-type-keys', reason: 'media-mac', requirement: 'REQ-MEDIA-006' },
  },
  async run(ctx) {
    const v = ctx.variant;
    const alice = await ctx.peer();
    const { blob, media } = build(v.defect, fixtureBytes('photo.jpg'));
    const store = httpMediaStore(() => alice.mediaGrant());
    const up = await ctx.step('the WhatsApp user uploads the blob to the media host', () =>
      store.upload('image', blob, sha256(blob)),
    );
    const since = ctx.candidate.events.cursor;
    const sent = await ctx.step(`it sends an image with a defect: ${v.defect}`, () =>
      alice.sendContent(
        ctx.candidate.jid,
        { type: 'image', media: { ...media, directPath: up.directPath, url: up.url } },
        { type: 'media', mediatype: 'image' },
      ),
    );
    const outcome = await ctx.step('the candidate refuses it', () =>
      Promise.race([
        ctx.candidate.events.waitFor('message-rejected', (e) => e.id === sent.id, { since }),
        ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id, { since }),
      ]),
    );
    if (outcome.type === 'message-received') {
      ctx.must(
        false,
        v.defect === 'enc-hash' ? 'VIO_MEDIA_ENC_HASH_NOT_CHECKED' : 'VIO_MEDIA_SHOWN_UNCHECKED',
        `media with a defect (${v.defect}) was shown`,
        v.requirement,
      );
    } else {
      ctx.must(
        outcome.reason === v.reason,
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.reason}, not as ${v.reason}`,
        v.requirement,
      );
    }
    await ctx.step('the conversation goes on', () => ctx.fence(alice));
    const shown = ctx.candidate.events.of('message-received', since).filter((e) => e.id === sent.id);
    ctx.must(
      outcome.type === 'message-received' || shown.length === 0,
      'VIO_MEDIA_SHOWN_UNCHECKED',
      'the refused media was shown afterwards',
      v.requirement,
    );
  },
});
