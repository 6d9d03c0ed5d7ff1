import { defineScenario } from '../../../harness/scenario/define.ts';
import { fixtureBytes, sha256hex } from '../../../harness/scenario/helpers.ts';
import { child } from '../../../harness/xml/node.ts';
import { candidateSent, peerOutcome } from '../../rcpt/wire.ts';

export default defineScenario({
  id: 'MSG-MEDIA-003',
  title: 'A voice note the candidate sends is a ptt audioMessage in Ogg Opus with its duration',
  requirements: ['REQ-MSG-008'],
  level: 'MUST',
  kind: 'conformance',
  features: ['send-voice'],
  variants: { 'seconds-given': { seconds: 3 }, 'seconds-from-file': { seconds: undefined } },
  async run(ctx) {
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const seconds = ctx.variant.seconds;
    const { id } = await ctx.step('the candidate sends a voice note', () =>
      ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'voice', media: { fixture: 'voice.ogg' }, ...(seconds ? { seconds } : {}) },
      }),
    );
    const outcome = await ctx.step('the WhatsApp user downloads and decrypts it', () => peerOutcome(bob, id));
    if ('rejected' in outcome) {
      ctx.must(false, outcome.rejected.code, `the WhatsApp user refused it: ${outcome.rejected.message}`);
      return;
    }
    const got = outcome.message;
    const c = got.content;
    if (c.type !== 'voice') {
      ctx.must(false, 'VIO_MSG_CONTENT_MISMATCH', `decrypted as ${c.type}, not a voice note (ptt)`);
      return;
    }
    ctx.must(
      got.file !== undefined && sha256hex(got.file) === sha256hex(fixtureBytes('voice.ogg')),
      'VIO_MSG_CONTENT_MISMATCH',
      'the decrypted file differs from the recording',
    );
    ctx.must(
      c.media.mimetype === 'audio/ogg; codecs=opus',
      'VIO_MSG_CONTENT_MISMATCH',
      `mimetype ${c.media.mimetype}`,
    );
    // voice.ogg lasts 3 s.
    ctx.must(c.seconds === 3, 'VIO_MSG_CONTENT_MISMATCH', `duration ${c.seconds ?? '(none)'} s instead of 3`);
    const stanza = candidateSent(ctx, seq, 'message').find((f) => f.node.attrs.id === id);
    const enc = stanza && child(stanza.node, 'enc');
    ctx.must(
      stanza?.node.attrs.type === 'media' && enc?.attrs.mediatype === 'ptt',
      'VIO_MSG_MEDIATYPE_MISMATCH',
      `sent as type ${stanza?.node.attrs.type ?? '(none)'}, mediatype ${enc?.attrs.mediatype ?? '(none)'}`,
    );
  },
});
