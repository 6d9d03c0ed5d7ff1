import { bundleToUserNode, preKeyNode } from '../../../harness/crypto/bundle.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { childrenOf, el } from '../../../harness/xml/node.ts';
import { converse, sentMessages, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-IDENTITY-003',
  title: 'A retry receipt carrying a new identity key raises the security notice',
  requirements: ['REQ-E2EE-010'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const bob = await ctx.peer();
    await converse(ctx, bob);
    const { id } = await ctx.step('the candidate sends a message', async () => {
      const sent = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'text', text: 'before' },
      });
      await bob.events.waitFor('message', (e) => e.id === sent.id);
      return sent;
    });
    // The contact's device was reset: its retry receipt brings keys of a new identity.
    const fresh = await ctx.peerProfile.createIdentity({ preKeyCount: 1 });
    const upload = fresh.keyUpload();
    const reg = new Uint8Array(4);
    new DataView(reg.buffer).setUint32(0, fresh.registrationId);
    const t = String(Math.floor(Date.now() / 1000));
    const keys = el('keys', {}, [
      el('type', {}, Uint8Array.of(0x05)),
      el('identity', {}, fresh.identityKey),
      ...upload.preKeys.slice(0, 1).map(preKeyNode),
      ...childrenOf(bundleToUserNode(bob.jid, { ...upload })).filter(
        (c) => c.tag === 'skey' || c.tag === 'kyber',
      ),
    ]);
    const since = ctx.candidate.events.cursor;
    const seq = ctx.server.transcript.seq;
    await ctx.step('a retry receipt with keys of a new identity', () => {
      ctx.server.core.inject(
        ctx.candidate.jid,
        el('receipt', { from: bob.jid, id, type: 'retry', t }, [
          el('retry', { count: 2, id, t, v: '1' }),
          el('registration', {}, reg),
          keys,
        ]),
      );
    });
    const resent = await ctx.step('the candidate re-sends to the new identity', () =>
      untilWire(() => sentMessages(ctx, seq, bob.jid).some((m) => m.id === id)),
    );
    await ctx.step('a fence', () => ctx.fence(bob));
    const notice = ctx.candidate.events.of('security-notice', since).find((e) => e.jid === bob.jid);
    ctx.note('re-sent to the new identity', resent);
    ctx.must(
      notice !== undefined || !resent,
      'VIO_E2EE_NO_SECURITY_NOTICE',
      'the candidate encrypted to a new identity from a retry receipt without a security notice',
    );
    if (!resent) return;
    const copy = sentMessages(ctx, seq, bob.jid).find((m) => m.id === id);
    const plain = copy?.ct ? await fresh.decrypt(bob.jid, copy.ct) : undefined;
    ctx.note('the new identity decrypts the re-send', plain?.ok);
  },
});
