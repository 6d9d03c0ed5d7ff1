import type { MessageContent } from '../../../harness/crypto/content.ts';
import type { Feature, SendContent } from '../../../harness/driver/contract.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { child } from '../../../harness/xml/node.ts';
import { candidateSent, peerOutcome } from '../../rcpt/wire.ts';

interface V {
  /** The content to send; `target` stands for the id of a message of the contact. */
  readonly content: SendContent;
  /** What the candidate must be able to send it at all. */
  readonly feature?: Feature;
}

const TARGET = 'target';

/** The stanza type and mediatype the decrypted payload calls for (PROFILE.md §7.2). */
function expected(c: MessageContent): { type: string; mediatype?: string } {
  switch (c.type) {
    case 'text':
    case 'reply':
    case 'revoke':
      return { type: 'text' };
    case 'reaction':
    case 'reaction-revoke':
      return { type: 'reaction' };
    case 'voice':
      return { type: 'media', mediatype: 'ptt' };
    case 'video':
      return { type: 'media', mediatype: c.gifPlayback ? 'gif' : 'video' };
    default:
      return { type: 'media', mediatype: c.type };
  }
}

export default defineScenario<V>({
  id: 'MSG-STANZA-001',
  title: "The stanza type and mediatype of each message the candidate sends match its payload's content",
  requirements: ['REQ-MSG-019'],
  level: 'MUST',
  kind: 'conformance',
  variants: {
    text: { content: { type: 'text', text: 'plain' } },
    reply: { content: { type: 'reply', text: 'answer', quotedId: TARGET } },
    image: {
      content: { type: 'image', media: { fixture: 'photo.jpg' }, caption: 'pic' },
      feature: 'send-media',
    },
    voice: { content: { type: 'voice', media: { fixture: 'voice.ogg' } }, feature: 'send-voice' },
    audio: { content: { type: 'audio', media: { fixture: 'voice.ogg' } }, feature: 'send-media' },
    video: { content: { type: 'video', media: { fixture: 'clip.mp4' } }, feature: 'send-media' },
    document: { content: { type: 'document', media: { fixture: 'document.pdf' } }, feature: 'send-media' },
    reaction: { content: { type: 'reaction', targetId: TARGET, emoji: '👍' }, feature: 'reactions-send' },
    'reaction-revoke': { content: { type: 'reaction-revoke', targetId: TARGET }, feature: 'reactions-send' },
  },
  async run(ctx) {
    const { feature } = ctx.variant;
    // The requirement holds for every message sent; content the candidate cannot send is not sent.
    if (feature && !ctx.candidate.manifest.features.includes(feature)) {
      ctx.note('not checked', `the candidate does not declare ${feature}`);
      return;
    }
    const bob = await ctx.peer();
    const target = await ctx.step('a message from the contact', async () => {
      const m = await bob.send(ctx.candidate.jid, { type: 'text', text: 'something to answer' });
      await ctx.candidate.events.waitFor('message-received', (e) => e.id === m.id);
      return m.id;
    });
    let content = ctx.variant.content;
    if ('quotedId' in content) content = { ...content, quotedId: target };
    if ('targetId' in content) content = { ...content, targetId: target };
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step(`the candidate sends ${content.type}`, () =>
      ctx.candidate.driver.send({ to: bob.jid, content }),
    );
    const outcome = await ctx.step('the WhatsApp user decrypts it', () => peerOutcome(bob, id));
    const stanza = candidateSent(ctx, seq, 'message').find((f) => f.node.attrs.id === id);
    ctx.demand(stanza !== undefined, 'VIO_MSG_MEDIATYPE_MISMATCH', 'the message is not in the transcript');
    const sent = {
      type: stanza?.node.attrs.type,
      mediatype: stanza && child(stanza.node, 'enc')?.attrs.mediatype,
    };
    if ('rejected' in outcome) {
      ctx.must(false, outcome.rejected.code, `the WhatsApp user refused it: ${outcome.rejected.message}`);
      return;
    }
    const want = expected(outcome.message.content);
    ctx.must(
      sent.type === want.type && sent.mediatype === want.mediatype,
      'VIO_MSG_MEDIATYPE_MISMATCH',
      `a ${outcome.message.content.type} payload sent as type ${sent.type ?? '(none)'}` +
        `, mediatype ${sent.mediatype ?? '(none)'}; expected ${want.type}, ${want.mediatype ?? '(none)'}`,
    );
    ctx.must(
      outcome.message.content.type === content.type,
      'VIO_MSG_CONTENT_MISMATCH',
      `the payload is ${outcome.message.content.type}, not ${content.type}`,
    );
  },
});
