import { getProfile } from '../../../harness/crypto/profiles.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { sentAcks, sentMessages, shownOrRejected, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-VERSION-003',
  title: 'A PQXDH candidate nacks an X3DH first message and will not fall back to X3DH to answer it',
  requirements: ['REQ-E2EE-026', 'REQ-E2EE-027'],
  level: 'MUST',
  kind: 'security',
  profiles: ['signal-pqxdh'],
  async run(ctx) {
    const old = await ctx.peer({ profile: getProfile('signal-x3dh') });
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    const m = await ctx.step('a contact on X3DH sends a version 3 pkmsg', () =>
      old.send(ctx.candidate.jid, { type: 'text', text: 'no Kyber here' }),
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, m.id, since));
    ctx.must(!outcome.shown, 'VIO_E2EE_DOWNGRADE', 'an X3DH first message was shown', 'REQ-E2EE-027');
    if (!outcome.shown) {
      ctx.must(
        outcome.event.reason === 'unsupported-version',
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as unsupported-version`,
        'REQ-E2EE-027',
      );
    }
    await ctx.step('the candidate acks it', () => untilWire(() => sentAcks(ctx, m.id, seq).length > 0));
    const acks = sentAcks(ctx, m.id, seq);
    ctx.must(
      acks.some((a) => a.node.attrs.error === '490'),
      'VIO_E2EE_WRONG_REASON',
      `acked ${acks.map((a) => a.node.attrs.error ?? 'plainly').join(', ') || 'not at all'}, not nacked 490`,
      'REQ-E2EE-027',
    );
    // The contact's bundle has no Kyber prekey: the candidate must refuse to send (no fallback).
    const cursor = ctx.candidate.events.cursor;
    const mark = ctx.server.transcript.seq;
    const reply = await ctx.step('the candidate writes to that contact', async () => {
      try {
        return await ctx.candidate.driver.send({ to: old.jid, content: { type: 'text', text: 'hello' } });
      } catch {
        return undefined;
      }
    });
    if (reply !== undefined) {
      const ev = ctx.candidate.events;
      const end = await ctx.step('the candidate sends it or reports the failure', () =>
        Promise.race([
          ev.waitFor('message-sent', (e) => e.id === reply.id, { since: cursor }),
          ev.waitFor('send-failed', (e) => e.id === reply.id, { since: cursor }),
        ]),
      );
      ctx.must(
        end.type === 'send-failed',
        'VIO_E2EE_DOWNGRADE',
        'the candidate sent to a contact whose bundle has no Kyber prekey',
        'REQ-E2EE-026',
      );
    }
    const leaked = sentMessages(ctx, mark, old.jid);
    ctx.must(
      leaked.every((m) => m.ct?.bytes[0] === 0x44 && m.ct.type === 'pkmsg'),
      'VIO_E2EE_DOWNGRADE',
      `the candidate sent ${leaked.map((m) => `${m.ct?.type} 0x${(m.ct?.bytes[0] ?? 0).toString(16)}`).join(', ')} to the X3DH contact`,
      'REQ-E2EE-026',
    );
  },
});
