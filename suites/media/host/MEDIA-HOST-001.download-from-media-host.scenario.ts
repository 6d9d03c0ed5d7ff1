import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encryptMedia } from '../../../harness/crypto/media.ts';
import { httpMediaStore } from '../../../harness/peers/http-media.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';

export default defineScenario({
  id: 'MEDIA-HOST-001',
  title: "Media is downloaded by direct path from the media host, never from the message's url",
  requirements: ['REQ-MEDIA-018'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const alice = await ctx.peer();
    // A host the message names but media_conn never gave: any request reaching it is a finding.
    const hits: string[] = [];
    const trap = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    try {
      const port = (trap.address() as AddressInfo).port;
      const file = fixtureBytes('photo.jpg');
      const enc = encryptMedia(file, 'image');
      const store = httpMediaStore(() => alice.mediaGrant());
      const up = await ctx.step('the WhatsApp user uploads an image', () =>
        store.upload('image', enc.blob, enc.fileEncSha256),
      );
      const seq = ctx.server.transcript.seq;
      const since = ctx.candidate.events.cursor;
      const sent = await ctx.step('it sends the image with a url on another host', () =>
        alice.sendContent(
          ctx.candidate.jid,
          {
            type: 'image',
            media: {
              mimetype: 'image/jpeg',
              fileSha256: enc.fileSha256,
              fileEncSha256: enc.fileEncSha256,
              fileLength: enc.fileLength,
              mediaKey: enc.mediaKey,
              directPath: up.directPath,
              url: `http://127.0.0.1:${port}${up.directPath}`,
            },
          },
          { type: 'media', mediatype: 'image' },
        ),
      );
      const outcome = await ctx.step('the candidate handles it', () =>
        Promise.race([
          ctx.candidate.events.waitFor('message-received', (e) => e.id === sent.id, { since }),
          ctx.candidate.events.waitFor('message-rejected', (e) => e.id === sent.id, { since }),
        ]),
      );
      ctx.must(hits.length === 0, 'VIO_MEDIA_FOREIGN_HOST', `the other host was asked: ${hits.join(', ')}`);
      const fetched = ctx.server.transcript
        .slice(seq)
        .some(
          (e) =>
            e.kind === 'event' &&
            e.event === 'media_download' &&
            e.detail?.directPath === up.directPath &&
            e.detail?.status === 200,
        );
      ctx.must(
        fetched,
        'VIO_MEDIA_FOREIGN_HOST',
        'the blob was not downloaded from the media host by its direct path',
      );
      ctx.must(
        outcome.type === 'message-received' && outcome.content.media?.sha256 === sha256hex(file),
        'VIO_MSG_NOT_SHOWN',
        outcome.type === 'message-rejected' ? `refused as ${outcome.reason}` : 'the shown file differs',
      );
    } finally {
      await new Promise((r) => trap.close(r));
    }
  },
});
