import { defineScenario } from '../../../harness/scenario/define.ts';

const DAY_MS = 86_400_000;
const JUMP_MS = 7 * DAY_MS + 3_600_000;

export default defineScenario({
  id: 'KEYS-ROTATE-001',
  title:
    'Seven days of server time later the candidate rotates its signed prekey, and still accepts first messages on the previous one',
  requirements: ['REQ-KEYS-003', 'REQ-KEYS-004'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    const late = await ctx.peer();
    // A contact that fetched the bundle before the rotation and writes only after it.
    await ctx.step('a WhatsApp user fetches the bundle with the current signed prekey', async () => {
      const bundle = await late.fetchBundle(jid);
      const r = await late.identity.processBundle(jid, bundle);
      ctx.demand(r.ok, 'VIO_KEYS_REFUSED', "the harness could not use the candidate's bundle (setup)");
    });
    const before = ctx.server.core.directory.get(jid)?.signedPreKey.id;
    const seq = ctx.server.transcript.seq;
    ctx.server.clock.advance(JUMP_MS);
    try {
      await ctx.step('a message carries the new server time to the candidate', () => ctx.fence(alice));
      const rotated = await ctx.step('the candidate sends a signed prekey rotation', async () => {
        const deadline = Date.now() + 3_000;
        while (Date.now() < deadline) {
          const frame = ctx.server.transcript
            .slice(seq)
            .find(
              (e) =>
                e.kind === 'frame' &&
                e.direction === 'c2s' &&
                e.address === jid &&
                /<rotate[ >/]/.test(e.stanza),
            );
          if (frame) return frame;
          await new Promise((r) => setTimeout(r, 20));
        }
        return undefined;
      });
      ctx.should(
        rotated !== undefined,
        'VIO_KEYS_NO_ROTATION',
        'no iq.encrypt.rotate after seven days and an hour of server time',
        'REQ-KEYS-003',
      );
      if (rotated) {
        const refused = ctx.server.transcript
          .slice(seq)
          .filter((e) => e.kind === 'event' && e.event === 'keys-refused' && e.address === jid);
        ctx.should(
          refused.length === 0,
          'VIO_KEYS_REFUSED',
          `the directory refused the rotation: ${JSON.stringify(refused[0]?.violations ?? [])}`,
          'REQ-KEYS-003',
        );
        // The result may still be on its way: give the directory a moment to show the new key.
        for (let i = 0; i < 50 && ctx.server.core.directory.get(jid)?.signedPreKey.id === before; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const after = ctx.server.core.directory.get(jid)?.signedPreKey.id;
        ctx.should(
          after !== before,
          'VIO_KEYS_NO_ROTATION',
          `the signed prekey id is still ${before}`,
          'REQ-KEYS-003',
        );
      }
      await ctx.step('the conversation goes on under the new signed prekey', () => ctx.fence(alice));
      const m = await ctx.step('the first message on the previous signed prekey arrives', () =>
        late.send(jid, { type: 'text', text: 'written before the rotation' }),
      );
      const outcome = await ctx.step('the candidate shows it', () =>
        Promise.race([
          ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id),
          ctx.candidate.events.waitFor('message-rejected', (e) => e.id === m.id),
        ]),
      );
      ctx.must(
        outcome.type === 'message-received',
        'VIO_MSG_NOT_SHOWN',
        `a first message on the previous signed prekey was refused as ${outcome.type === 'message-rejected' ? outcome.reason : ''}`,
        'REQ-KEYS-004',
      );
    } finally {
      // Shared server: put its time back, so grants and tokens of later scenarios stay valid.
      ctx.server.clock.advance(-JUMP_MS);
    }
  },
});
