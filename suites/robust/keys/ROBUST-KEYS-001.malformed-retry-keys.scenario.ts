import { bundleToUserNode, preKeyNode } from '../../../harness/crypto/bundle.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import type { StanzaNode } from '../../../harness/xml/node.ts';
import { childrenOf, el } from '../../../harness/xml/node.ts';

type Defect = 'identity-31-bytes' | 'type-byte' | 'prekey-33-bytes' | 'skey-without-signature';

export default defineScenario<{ readonly defect: Defect }>({
  id: 'ROBUST-KEYS-001',
  title: 'A retry receipt with malformed keys builds no session from them, and the conversation goes on',
  requirements: ['REQ-ROBUST-007'],
  level: 'MUST',
  kind: 'robustness',
  variants: {
    'identity-31-bytes': { defect: 'identity-31-bytes' },
    'type-byte': { defect: 'type-byte' },
    'prekey-33-bytes': { defect: 'prekey-33-bytes' },
    'skey-without-signature': { defect: 'skey-without-signature' },
  },
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const alice = await ctx.peer();
    const first = await ctx.step('the candidate writes to a WhatsApp user, who decrypts it', async () => {
      const { id } = await ctx.candidate.driver.send({
        to: alice.jid,
        content: { type: 'text', text: 'one' },
      });
      await alice.events.waitFor('message', (e) => e.id === id);
      return id;
    });
    const d = ctx.variant.defect;
    const upload = alice.identity.keyUpload();
    const [fresh] = await alice.identity.generatePreKeys(1);
    const bundleParts = childrenOf(bundleToUserNode(alice.jid, { ...upload })).filter(
      (c) => c.tag === 'skey',
    );
    const skey: StanzaNode[] =
      d === 'skey-without-signature'
        ? bundleParts.map((s) =>
            el(
              s.tag,
              s.attrs,
              childrenOf(s).filter((c) => c.tag !== 'signature'),
            ),
          )
        : bundleParts;
    const identity =
      d === 'identity-31-bytes' ? alice.identity.identityKey.subarray(1) : alice.identity.identityKey;
    const prekey = fresh
      ? d === 'prekey-33-bytes'
        ? el('key', {}, [
            el('id', {}, Uint8Array.of(0, 0, 9)),
            el(
              'value',
              {},
              Uint8Array.from({ length: 33 }, (_, i) => i + 1),
            ),
          ])
        : preKeyNode(fresh)
      : undefined;
    const reg = new Uint8Array(4);
    new DataView(reg.buffer).setUint32(0, alice.identity.registrationId);
    const receipt = el(
      'receipt',
      { from: alice.jid, id: first, t: String(ctx.server.clock.seconds()), type: 'retry' },
      [
        el('retry', { count: '2', id: first, t: String(ctx.server.clock.seconds()), v: '1' }),
        el('registration', {}, reg),
        el('keys', {}, [
          el('type', {}, Uint8Array.of(d === 'type-byte' ? 0x06 : 0x05)),
          el('identity', {}, identity),
          ...(prekey ? [prekey] : []),
          ...skey,
        ]),
      ],
    );
    await ctx.step(`a retry receipt arrives with malformed keys (${d})`, () =>
      ctx.server.core.inject(jid, receipt),
    );
    const fenced = await ctx.step('the candidate still shows what the WhatsApp user sends', () =>
      ctx.fence(alice).then(
        () => true,
        () => false,
      ),
    );
    ctx.must(fenced, 'VIO_ROBUST_FENCE_MISSED', 'no message was shown after the malformed retry receipt');
    // A session built from the malformed keys would make the next message undecryptable.
    const { id } = await ctx.step('the candidate writes again', () =>
      ctx.candidate.driver.send({ to: alice.jid, content: { type: 'text', text: 'two' } }),
    );
    const outcome = await ctx.step('the WhatsApp user decrypts it under the genuine session', () =>
      Promise.race([
        alice.events.waitFor('message', (e) => e.id === id),
        alice.events.waitFor('message-rejected', (e) => e.id === id),
      ]),
    );
    ctx.must(
      outcome.type === 'message',
      'VIO_KEYS_REFUSED',
      outcome.type === 'message-rejected' ? `the WhatsApp user cannot decrypt it: ${outcome.message}` : '',
    );
  },
});
