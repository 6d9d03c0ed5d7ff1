import { defineScenario } from '../../../harness/scenario/define.ts';
import type { EventEntry } from '../../../harness/server/types.ts';

const MIN_PREKEYS = 30;

export default defineScenario({
  id: 'KEYS-UPLOAD-001',
  title: 'The first key upload holds the enlisted identity, a signed prekey and at least 30 one-time prekeys',
  requirements: ['REQ-KEYS-001', 'REQ-KEYS-011'],
  level: 'MUST',
  kind: 'conformance',
  async run(ctx) {
    const jid = ctx.candidate.jid;
    // The first upload happened at connect, before any scenario: it is in the transcript from the start.
    const uploads = ctx.server.transcript
      .entries()
      .filter((e): e is EventEntry => e.kind === 'event' && e.event === 'keys-uploaded' && e.address === jid);
    const first = uploads[0];
    ctx.demand(first !== undefined, 'VIO_KEYS_TOO_FEW_PREKEYS', 'no key upload was accepted', 'REQ-KEYS-001');
    const count = Number(first?.detail?.preKeys ?? 0);
    ctx.note('first upload', { preKeys: count, uploads: uploads.length });
    ctx.must(
      count >= MIN_PREKEYS,
      'VIO_KEYS_TOO_FEW_PREKEYS',
      `the first upload held ${count} one-time prekeys, fewer than ${MIN_PREKEYS}`,
      'REQ-KEYS-001',
    );
    const entry = ctx.server.core.directory.get(jid);
    ctx.demand(entry !== undefined, 'VIO_KEYS_REFUSED', 'the directory holds no keys for the candidate');
    ctx.must(
      entry !== undefined && entry.identityKey.length > 0 && entry.signedPreKey.signature.length > 0,
      'VIO_KEYS_REFUSED',
      'the directory entry lacks an identity key or a signed prekey signature',
      'REQ-KEYS-001',
    );
    if (ctx.profile === 'signal-pqxdh') {
      ctx.must(
        entry?.kyberPreKey !== undefined,
        'VIO_KEYS_REFUSED',
        'no Kyber prekey was uploaded under signal-pqxdh',
        'REQ-KEYS-001',
      );
    }
    const refused = ctx.server.transcript
      .entries()
      .filter((e) => e.kind === 'event' && e.event === 'keys-refused' && e.address === jid);
    ctx.must(
      refused.length === 0,
      'VIO_KEYS_REFUSED',
      `the directory refused ${refused.length} of the candidate's uploads: ${JSON.stringify(refused[0]?.violations ?? [])}`,
      'REQ-KEYS-011',
    );
    // One identity per user: the identity stays the one enlisted, whatever the uploads since.
    const enlisted = ctx.server.core.accounts.get(jid)?.identityKey;
    ctx.must(
      enlisted !== undefined &&
        entry !== undefined &&
        Buffer.from(enlisted).equals(Buffer.from(entry.identityKey)),
      'VIO_KEYS_REFUSED',
      'the identity in the directory is not the enlisted one',
      'REQ-KEYS-011',
    );
  },
});
