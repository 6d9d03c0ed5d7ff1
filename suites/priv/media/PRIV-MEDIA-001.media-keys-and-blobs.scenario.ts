import type { MediaFixture } from '../../../harness/driver/contract.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { canary, fixtureBytes, wireNeedles } from '../../../harness/scenario/helpers.ts';
import type { EventEntry } from '../../../harness/server/types.ts';
import { hex, untilWire } from '../../e2ee/wire.ts';

interface V {
  readonly type: 'image' | 'document';
  readonly file: MediaFixture;
}

/** Windows of the file that must never appear in an upload. */
function windows(file: Uint8Array): Buffer[] {
  const size = 32;
  const at = [0, Math.floor(file.length / 3), Math.floor(file.length / 2), Math.max(0, file.length - size)];
  return at.map((i) => Buffer.from(file.subarray(i, i + size)));
}

export default defineScenario<V>({
  id: 'PRIV-MEDIA-001',
  title: 'Each media message has a fresh media key, and only ciphertext is uploaded',
  requirements: ['REQ-PRIV-006', 'REQ-PRIV-007'],
  level: 'MUST',
  kind: 'security',
  features: ['send-media'],
  variants: {
    image: { type: 'image', file: 'photo.jpg' },
    document: { type: 'document', file: 'document.pdf' },
  },
  async run(ctx) {
    const bob = await ctx.peer();
    const secret = canary(`${ctx.id}-${ctx.variantName}`);
    const file = fixtureBytes(ctx.variant.file);
    const seq = ctx.server.transcript.seq;
    const ids = await ctx.step('the candidate sends the same file twice', async () => {
      const out: string[] = [];
      for (let i = 0; i < 2; i++) {
        const media = { fixture: ctx.variant.file };
        const content =
          ctx.variant.type === 'image'
            ? { type: 'image' as const, media, caption: secret }
            : { type: 'document' as const, media, fileName: `${secret}.pdf` };
        out.push((await ctx.candidate.driver.send({ to: bob.jid, content })).id);
      }
      return out;
    });
    const uploads = () =>
      ctx.server.transcript
        .slice(seq)
        .filter(
          (e): e is EventEntry =>
            e.kind === 'event' &&
            e.event === 'media_upload' &&
            e.address === ctx.candidate.jid &&
            e.detail?.status === 200,
        );
    await ctx.step('both uploads reach the server', () => untilWire(() => uploads().length >= 2));
    // Decided on the server's copy first: a candidate that uploads plaintext may break decryption.
    const leaks: string[] = [];
    for (const up of uploads()) {
      const path = String(up.detail?.directPath ?? '');
      const res = await fetch(`${ctx.server.httpUrl}${path}`);
      const blob = Buffer.from(await res.arrayBuffer());
      if (windows(file).some((w) => blob.includes(w))) leaks.push(`${path} holds the file's own bytes`);
      if (wireNeedles(secret).some((n) => blob.includes(Buffer.from(n))))
        leaks.push(`${path} holds the canary`);
    }
    const needles = wireNeedles(secret);
    const inFrames = ctx.server.transcript
      .slice(seq)
      .filter((e) => needles.some((n) => JSON.stringify(e).includes(n)));
    if (inFrames.length > 0) leaks.push(`the canary is in ${inFrames.length} transcript entries`);
    ctx.must(leaks.length === 0, 'VIO_PRIV_PLAINTEXT_LEAK', leaks.join('; '), 'REQ-PRIV-007');
    const keys: string[] = [];
    for (const id of ids) {
      const got = await ctx.step(`the contact decrypts ${id}`, () =>
        Promise.race([
          bob.events.waitFor('message', (e) => e.id === id),
          bob.events.waitFor('message-rejected', (e) => e.id === id),
        ]),
      );
      if (got.type === 'message' && 'media' in got.content) keys.push(hex(got.content.media.mediaKey));
      else ctx.note(`the contact refused ${id}`, got);
    }
    ctx.must(
      keys.length < 2 || keys[0] !== keys[1],
      'VIO_PRIV_MEDIA_KEY_REUSED',
      'the two media messages share one mediaKey',
      'REQ-PRIV-006',
    );
  },
});
