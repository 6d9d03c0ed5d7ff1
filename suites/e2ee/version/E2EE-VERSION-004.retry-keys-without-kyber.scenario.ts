import { randomBytes } from 'node:crypto';
import { kyberPreKeyNode, preKeyNode, signedPreKeyNode } from '../../../harness/crypto/bundle.ts';
import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { el } from '../../../harness/xml/node.ts';
import { converse, sentMessages } from '../../e2ee/wire.ts';

/** A one-time prekey id of the receipt's keys only: a re-send naming it was built from them. */
const RETRY_PREKEY = 0xbcdef;

export default defineScenario<{ readonly kyber: 'absent' | 'bad-signature' }>({
  id: 'E2EE-VERSION-004',
  title: 'A PQXDH candidate does not build a session from retry keys without a valid Kyber prekey',
  requirements: ['REQ-E2EE-026'],
  level: 'MUST',
  kind: 'security',
  profiles: ['signal-pqxdh'],
  variants: { absent: { kyber: 'absent' }, 'bad-signature': { kyber: 'bad-signature' } },
  async run(ctx) {
    const bob = await ctx.peer();
    await converse(ctx, bob);
    const { id } = await ctx.step('the candidate sends a message', async () => {
      const sent = await ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'once' } });
      await bob.events.waitFor('message', (e) => e.id === sent.id);
      return sent;
    });
    const up = bob.identity.keyUpload();
    const kyber = up.kyberPreKey;
    const reg = new Uint8Array(4);
    new DataView(reg.buffer).setUint32(0, bob.identity.registrationId);
    const badKyber = kyber
      ? { ...kyber, signature: Uint8Array.from(kyber.signature, (b, i) => (i === 0 ? b ^ 0xff : b)) }
      : undefined;
    const t = String(Math.floor(Date.now() / 1000));
    const keys = el('keys', {}, [
      el('type', {}, Uint8Array.of(0x05)),
      el('identity', {}, up.identityKey),
      preKeyNode({ id: RETRY_PREKEY, publicKey: randomBytes(32) }),
      signedPreKeyNode(up.signedPreKey),
      ...(ctx.variant.kyber === 'bad-signature' && badKyber ? [kyberPreKeyNode(badKyber)] : []),
    ]);
    const seq = ctx.server.transcript.seq;
    await ctx.step(
      `a retry receipt whose keys have ${ctx.variant.kyber === 'absent' ? 'no' : 'a bad'} Kyber prekey`,
      () => {
        ctx.server.core.inject(
          ctx.candidate.jid,
          el('receipt', { from: bob.jid, id, type: 'retry', t }, [
            el('retry', { count: 2, id, t, v: '1' }),
            el('registration', {}, reg),
            keys,
          ]),
        );
      },
    );
    await ctx.step('a fence', () => ctx.fence(bob));
    const downgraded = sentMessages(ctx, seq, bob.jid).filter((m) => {
      if (!m.ct) return false;
      if (m.ct.bytes[0] !== 0x44) return true;
      const seen = m.ct.type === 'pkmsg' ? inspectCiphertext(m.ct) : undefined;
      return (
        seen?.ok === true && (seen.value.preKeyId === RETRY_PREKEY || seen.value.kyberPreKeyId === undefined)
      );
    });
    ctx.must(
      downgraded.length === 0,
      'VIO_E2EE_DOWNGRADE',
      `the candidate re-sent on a session from keys without a valid Kyber prekey (${downgraded.length} messages)`,
    );
  },
});
