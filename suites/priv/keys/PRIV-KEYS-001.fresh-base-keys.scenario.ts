import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { hex, sentMessages, untilWire } from '../../e2ee/wire.ts';

const ROUNDS = 2;

export default defineScenario({
  id: 'PRIV-KEYS-001',
  title: 'Every session the candidate starts has a new base key and consumes a new one-time prekey',
  requirements: ['REQ-PRIV-004'],
  level: 'MUST',
  kind: 'security',
  async run(ctx) {
    const bob = await ctx.peer();
    const seq = ctx.server.transcript.seq;
    // Each round: the contact cannot decrypt, asks again, and the candidate starts a new session.
    const starts: { label: string; id: string; copy: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // First the network damages the message; later the contact has lost its session.
      if (round === 1) ctx.server.core.fault(bob.jid, { kind: 'tamper', offset: -1 });
      else await bob.identity.deleteSession(ctx.candidate.jid);
      const mark = ctx.server.transcript.seq;
      const { id } = await ctx.step(`round ${round}: a message the contact cannot decrypt`, () =>
        ctx.candidate.driver.send({ to: bob.jid, content: { type: 'text', text: `round ${round}` } }),
      );
      if (round === 1) starts.push({ label: 'the first session', id, copy: 0 });
      starts.push({ label: `the session after retry ${round}`, id, copy: 1 });
      await ctx.step(`round ${round}: the candidate re-sends on a new session`, () =>
        untilWire(() => sentMessages(ctx, mark, bob.jid).filter((m) => m.id === id).length >= 2),
      );
    }
    const sent = sentMessages(ctx, seq, bob.jid);
    const seen = starts.map((s) => {
      const ct = sent.filter((m) => m.id === s.id)[s.copy]?.ct;
      const r = ct?.type === 'pkmsg' ? inspectCiphertext(ct) : undefined;
      return { ...s, type: ct?.type, inspection: r?.ok ? r.value : undefined };
    });
    ctx.note(
      'session starts',
      seen.map((s) => ({
        label: s.label,
        type: s.type,
        baseKey: hex(s.inspection?.baseKey),
        preKeyId: s.inspection?.preKeyId,
      })),
    );
    const started = seen.filter((s) => s.inspection !== undefined);
    ctx.demand(
      started.length >= 2,
      'VIO_E2EE_RETRY_UNANSWERED',
      `only ${started.length} first messages to compare (no new session after a retry receipt)`,
    );
    const bases = new Map<string, string>();
    for (const s of started) {
      const key = hex(s.inspection?.baseKey);
      const earlier = bases.get(key);
      ctx.must(
        earlier === undefined,
        'VIO_PRIV_BASE_KEY_REUSED',
        `${s.label} repeats the base key of ${earlier}`,
      );
      bases.set(key, s.label);
    }
    const prekeys = started.map((s) => s.inspection?.preKeyId).filter((p) => p !== undefined);
    ctx.must(
      new Set(prekeys).size === prekeys.length,
      'VIO_PRIV_BASE_KEY_REUSED',
      `one-time prekey ids ${prekeys.join(', ')}: a consumed prekey was used again`,
    );
  },
});
