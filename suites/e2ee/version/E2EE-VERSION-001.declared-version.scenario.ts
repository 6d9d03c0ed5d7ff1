import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, sentMessages, untilWire } from '../../e2ee/wire.ts';

export default defineScenario({
  id: 'E2EE-VERSION-001',
  title:
    "Every ciphertext the candidate sends has its profile's version, and PQXDH first messages carry Kyber",
  requirements: ['REQ-E2EE-024', 'REQ-E2EE-025'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const requirement = ctx.profile === 'signal-pqxdh' ? 'REQ-E2EE-025' : 'REQ-E2EE-024';
    const byte = ctx.profile === 'signal-pqxdh' ? 0x44 : 0x33;
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    const { id } = await ctx.step('the candidate starts a session', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'first' } }),
    );
    await ctx.step('its first message reaches the server', () =>
      untilWire(() => sentMessages(ctx, seq, bob.jid).some((m) => m.id === id)),
    );
    // Decided on the wire: a downgraded first message may not decrypt at the contact at all.
    const first = sentMessages(ctx, seq, bob.jid).find((m) => m.id === id);
    ctx.demand(first?.ct !== undefined, 'VIO_MSG_NOT_SHOWN', 'the candidate sent no ciphertext', requirement);
    const check = (label: string, ct: NonNullable<NonNullable<typeof first>['ct']>): void => {
      ctx.must(
        ct.bytes[0] === byte,
        'VIO_E2EE_DOWNGRADE',
        `${label} starts with 0x${(ct.bytes[0] ?? 0).toString(16)}, not 0x${byte.toString(16)} of ${ctx.profile}`,
        requirement,
      );
      if (ctx.profile !== 'signal-pqxdh' || ct.type !== 'pkmsg') return;
      const seen = inspectCiphertext(ct);
      ctx.must(
        seen.ok && seen.value.kyberPreKeyId !== undefined,
        'VIO_E2EE_DOWNGRADE',
        `${label} is a pkmsg without a Kyber prekey id`,
        requirement,
      );
    };
    if (first?.ct) check('the first message', first.ct);
    if (first?.ct?.bytes[0] !== byte) return;
    await ctx.step('the contact decrypts it', () => bob.events.waitFor('message', (e) => e.id === id));
    await converse(ctx, bob);
    const mark = ctx.server.transcript.seq;
    const { id: later } = await ctx.step('a message on the established session', () =>
      ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: 'later' } }),
    );
    await ctx.step('it reaches the server', () =>
      untilWire(() => sentMessages(ctx, mark, bob.jid).some((m) => m.id === later)),
    );
    for (const m of sentMessages(ctx, seq, bob.jid)) if (m.ct) check(`message ${m.id} (${m.ct.type})`, m.ct);
  },
});
