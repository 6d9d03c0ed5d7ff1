import { uploadFromNodes } from '../../../harness/crypto/bundle.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { sentStanzas, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'PRIV-KEYS-002',
  title: 'The candidate never uploads a one-time prekey id twice, across its first upload and top-ups',
  requirements: ['REQ-PRIV-005'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    const uploads = () =>
      sentStanzas(ctx, 'iq').filter((s) => s.node.attrs.xmlns === 'encrypt' && s.node.attrs.type === 'set');
    const before = uploads().length;
    for (let round = 1; round <= 2; round++) {
      const seen = uploads().length;
      await ctx.step(`top-up ${round}: the server says prekeys run low`, async () => {
        ctx.server.core.forceLowPreKeys(jid);
        return untilWire(() => uploads().length > seen);
      });
    }
    const all = uploads();
    ctx.note('key uploads', { total: all.length, topUps: all.length - before });
    const owner = new Map<number, number>();
    const repeats: string[] = [];
    for (const [n, up] of all.entries()) {
      const read = uploadFromNodes(up.node);
      if (!read.ok) continue;
      for (const key of read.value.preKeys) {
        const first = owner.get(key.id);
        if (first !== undefined && repeats.length < 5)
          repeats.push(`id ${key.id} in upload ${first + 1} and ${n + 1}`);
        if (first === undefined) owner.set(key.id, n);
      }
    }
    ctx.must(
      repeats.length === 0,
      'VIO_PRIV_PREKEY_ID_REUSED',
      `one-time prekey ids uploaded twice: ${repeats.join('; ')}`,
    );
    const refused = ctx.server.transcript
      .entries()
      .filter((e) => e.kind === 'event' && e.event === 'keys-refused' && e.address === jid);
    ctx.note('uploads the directory refused', refused.length);
  },
});
