import { inspectCiphertext } from '../../../harness/crypto/inspect.ts';
import {
  editInnerMessage,
  editSignalMessage,
  flipBit,
  truncated,
} from '../../../harness/crypto/inspect-mutate.ts';
import { encodePlaintext } from '../../../harness/crypto/padding.ts';
import type { Ciphertext } from '../../../harness/crypto/profile.ts';
import type { RejectReason } from '../../../harness/driver/contract.ts';
import type { RequirementId } from '../../../harness/requirements/types.ts';
import { defineScenario } from '../../../harness/scenario/define.ts';
import { converse, shownOrRejected } from '../../e2ee/wire.ts';

interface V {
  readonly first: boolean;
  readonly change: (ct: Ciphertext) => Ciphertext;
  readonly reasons: readonly RejectReason[];
  readonly requirement: RequirementId;
}

const counterOf = (ct: Ciphertext): number => {
  const seen = inspectCiphertext(ct);
  return seen.ok ? seen.value.counter : 0;
};

export default defineScenario<V>({
  id: 'E2EE-TAMPER-002',
  title: 'A message altered anywhere, or cut short, is refused and the session goes on',
  requirements: ['REQ-E2EE-008', 'REQ-E2EE-009'],
  level: 'MUST',
  kind: 'security',
  variants: {
    'ratchet-key': {
      first: false,
      // Byte 4 is inside the ratchet public key (version, tag, length, key type come first).
      change: (ct) => flipBit(ct, 4 * 8),
      reasons: ['tampered'],
      requirement: 'REQ-E2EE-008',
    },
    counter: {
      first: false,
      change: (ct) => ({ type: ct.type, bytes: editSignalMessage(ct.bytes, { counter: counterOf(ct) + 1 }) }),
      reasons: ['tampered'],
      requirement: 'REQ-E2EE-008',
    },
    'mac-last-byte': {
      first: false,
      change: (ct) => flipBit(ct, (ct.bytes.length - 1) * 8 + 7),
      reasons: ['tampered'],
      requirement: 'REQ-E2EE-008',
    },
    'cut-short': {
      first: false,
      change: (ct) => truncated(ct, ct.bytes.length - 3),
      reasons: ['tampered', 'invalid-message'],
      requirement: 'REQ-E2EE-008',
    },
    'mac-removed': {
      first: false,
      change: (ct) => truncated(ct, ct.bytes.length - 8),
      reasons: ['tampered', 'invalid-message'],
      requirement: 'REQ-E2EE-008',
    },
    'first-message-inner': {
      first: true,
      change: (ct) => ({ type: ct.type, bytes: editInnerMessage(ct.bytes, { counter: counterOf(ct) + 1 }) }),
      reasons: ['tampered'],
      requirement: 'REQ-E2EE-009',
    },
  },
  async run(ctx) {
    const v = ctx.variant;
    const alice = await ctx.peer();
    if (v.first) {
      await ctx.step("the contact sets up a session from the candidate's bundle", async () => {
        const bundle = await alice.fetchBundle(ctx.candidate.jid);
        const ok = await alice.identity.processBundle(ctx.candidate.jid, bundle);
        ctx.demand(ok.ok, 'VIO_KEYS_REFUSED', 'the bundle does not verify', v.requirement);
      });
    } else {
      await converse(ctx, alice);
    }
    const since = ctx.candidate.events.cursor;
    const id = await ctx.step(
      `a ${v.first ? 'pkmsg' : 'msg'} altered in transit (${ctx.variantName})`,
      async () => {
        const ct = await alice.identity.encrypt(
          ctx.candidate.jid,
          encodePlaintext({ type: 'text', text: 'altered in transit' }),
        );
        return alice.sendRaw(ctx.candidate.jid, v.change(ct));
      },
    );
    const outcome = await ctx.step('the candidate decides', () => shownOrRejected(ctx, id, since));
    ctx.must(!outcome.shown, 'VIO_E2EE_TAMPER_ACCEPTED', 'the altered message was shown', v.requirement);
    if (!outcome.shown) {
      ctx.must(
        v.reasons.includes(outcome.event.reason),
        'VIO_E2EE_WRONG_REASON',
        `refused as ${outcome.event.reason}, not as ${v.reasons.join(' or ')}`,
        v.requirement,
      );
    }
    await ctx.step('the next genuine messages still decrypt', async () => {
      await ctx.fence(alice);
      await ctx.fence(alice);
    });
  },
});
