import { randomBytes } from 'node:crypto';
import { kyberPreKeyNode, preKeyNode, signedPreKeyNode } from '../../../harness/crypto/bundle.ts';
import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import type { Peer } from '../../../harness/peers/peer.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { el } from '../../../harness/xml/node.ts';
import { sentMessages, untilWire } from '../../e2ee/wire.ts';

type Case = 'control' | 'unknown-id' | 'other-sender' | 'sixth' | 'bad-signature';

/** A fake one-time prekey id: a re-send naming it was built from keys that do not verify. */
const FAKE_PREKEY = 0xabcde;

function registration(peer: Peer): StanzaNode {
  const reg = new Uint8Array(4);
  new DataView(reg.buffer).setUint32(0, peer.identity.registrationId);
  return el('registration', {}, reg);
}

/** A retry receipt from `from`, as the server relays it. */
function retryReceipt(from: Peer, id: string, count: number, keys?: StanzaNode): StanzaNode {
  const t = String(Math.floor(Date.now() / 1000));
  return el('receipt', { from: from.jid, id, type: 'retry', t }, [
    el('retry', { count, id, t, v: '1' }),
    registration(from),
    ...(keys ? [keys] : []),
  ]);
}

/** `<keys>` for `peer` whose signed prekey signature is broken. */
function badKeys(peer: Peer): StanzaNode {
  const up = peer.identity.keyUpload();
  const signature = Uint8Array.from(up.signedPreKey.signature);
  signature[0] = (signature[0] ?? 0) ^ 0xff;
  const kyber = up.kyberPreKey;
  return el('keys', {}, [
    el('type', {}, Uint8Array.of(0x05)),
    el('identity', {}, up.identityKey),
    preKeyNode({ id: FAKE_PREKEY, publicKey: randomBytes(32) }),
    signedPreKeyNode({ ...up.signedPreKey, signature }),
    ...(kyber ? [kyberPreKeyNode(kyber)] : []),
  ]);
}

export default defineScenario<{ readonly case: Case }>({
  id: 'E2EE-RETRY-003',
  title:
    'A genuine retry receipt is answered; one for an unknown id, from another sender, a sixth or with bad keys is not',
  requirements: ['REQ-E2EE-014', 'REQ-E2EE-015'],
  level: 'MUST',
  kind: 'security',
  variants: {
    control: { case: 'control' },
    'unknown-id': { case: 'unknown-id' },
    'other-sender': { case: 'other-sender' },
    sixth: { case: 'sixth' },
    'bad-signature': { case: 'bad-signature' },
  },
  async run(ctx) {
    const bob = await ctx.peer();
    const carol = await ctx.peer();
    const { id } = await ctx.step('the candidate sends the contact a message', async () => {
      const sent = await ctx.candidate.driver.send({
        to: bob.jid,
        content: { type: 'text', text: 'sent once' },
      });
      await bob.events.waitFor('message', (e) => e.id === sent.id);
      return sent;
    });
    const seq = ctx.server.transcript.seq;
    const never = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
    const receipt = {
      control: () => retryReceipt(bob, id, 1),
      'unknown-id': () => retryReceipt(bob, never, 1),
      'other-sender': () => retryReceipt(carol, id, 1),
      sixth: () => retryReceipt(bob, id, 6, badKeys(bob)),
      'bad-signature': () => retryReceipt(bob, id, 2, badKeys(bob)),
    }[ctx.variant.case]();
    await ctx.step(`a retry receipt (${ctx.variantName})`, () => {
      ctx.server.core.inject(ctx.candidate.jid, receipt);
    });
    await ctx.step('fences from both contacts', async () => {
      await ctx.fence(bob);
      await ctx.fence(carol);
    });
    const resent = sentMessages(ctx, seq).filter((m) => m.id === id || m.id === never);
    if (ctx.variant.case === 'control') {
      // The same receipt, genuine: it must be answered (the other variants are not vacuous).
      const answered = await untilWire(() => sentMessages(ctx, seq, bob.jid).some((m) => m.id === id));
      ctx.must(
        answered,
        'VIO_E2EE_RETRY_UNANSWERED',
        'a genuine retry receipt was not answered',
        'REQ-E2EE-014',
      );
      return;
    }
    if (ctx.variant.case === 'bad-signature') {
      const fromBadKeys = resent.filter((m) => {
        const seen = m.ct?.type === 'pkmsg' ? inspectCiphertext(m.ct) : undefined;
        return seen?.ok === true && seen.value.preKeyId === FAKE_PREKEY;
      });
      ctx.must(
        fromBadKeys.length === 0,
        'VIO_E2EE_RETRY_UNANSWERED',
        'the candidate built a session from retry keys whose signature fails',
        'REQ-E2EE-015',
      );
      return;
    }
    ctx.must(
      resent.length === 0,
      'VIO_E2EE_RETRY_UNANSWERED',
      `the candidate answered a retry receipt it must ignore: ${resent.map((m) => `${m.id} to ${m.to}`).join(', ')}`,
      'REQ-E2EE-015',
    );
  },
});
