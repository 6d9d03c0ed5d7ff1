import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';

export default defineScenario({
  id: 'MEDIA-SEND-002',
  title: "The candidate's voice notes are encrypted with the Audio keys",
  requirements: ['REQ-MEDIA-004'],
  level: 'MUST',
  kind: 'conformance',
  features: ['send-voice'],
  async run(ctx) {
    const bob = await ctx.peer();
    const file = fixtureBytes('voice.ogg');
    const { id } = await ctx.step('the candidate sends a voice note', () =>
      ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'voice', media: { fixture: 'voice.ogg' }, seconds: 2 },
      }),
    );
    const outcome = await ctx.step('the WhatsApp user downloads, checks and decrypts it', () =>
      Promise.race([
        bob.events.waitFor('message', (e) => e.id === id),
        bob.events.waitFor('message-rejected', (e) => e.id === id),
      ]),
    );
    if (outcome.type === 'message-rejected') {
      ctx.must(false, outcome.code, `the WhatsApp user refused the voice note: ${outcome.message}`);
      return;
    }
    ctx.must(
      outcome.content.type === 'voice',
      'VIO_MSG_CONTENT_MISMATCH',
      `decrypted as ${outcome.content.type}, not a voice note`,
    );
    ctx.must(
      outcome.file !== undefined && sha256hex(outcome.file) === sha256hex(file),
      'VIO_MSG_CONTENT_MISMATCH',
      'the decrypted file differs from the one sent',
    );
  },
});
