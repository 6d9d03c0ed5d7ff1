// crypto: per profile, what the harness adds on top of its Signal library.
//
// - 1 KB messages: encrypt + decrypt of one 1 KB message on an established session, through the
//   profile (version and structure checks, per-identity queue, copies of the session for
//   failure isolation, outcome mapping) vs the bare library calls with plain in-memory stores.
//   Target: the profile at least 0.9x the bare calls (at most 10% overhead).
// - Session setup: a fresh recipient identity, its bundle processed, a first message encrypted
//   and decrypted. Reported without a target: the profiles check what the bare calls do not
//   (signal-x3dh verifies the signed-prekey signature, which libsignal-node skips, in pure JS).

import type { CryptoIdentity, CryptoProfile, PublicBundle } from '../../harness/crypto/profile.ts';
import { signalPqxdh } from '../../harness/crypto/signal-pqxdh.ts';
import { signalX3dh } from '../../harness/crypto/signal-x3dh.ts';
import type { BenchOptions, Figure, Ratio, Result, SuiteReport } from '../lib.ts';
import { inRounds, ratio, ratioResult, roundRatios } from '../lib.ts';
import { bareClientPair, bareNodePair } from './bare-signal.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
const PLAINTEXT = new Uint8Array(1024).map((_, i) => (i * 7) & 0xff);
const ROUNDS = 3;

function bundleOf(id: CryptoIdentity): PublicBundle {
  const up = id.keyUpload();
  return {
    registrationId: up.registrationId,
    identityKey: up.identityKey,
    signedPreKey: up.signedPreKey,
    ...(up.preKeys[0] && { preKey: up.preKeys[0] }),
    ...(up.kyberPreKey && { kyberPreKey: up.kyberPreKey }),
  };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark sanity check failed: ${what}`);
}

// ---- through the profiles ------------------------------------------------------------------

async function profileTasks(profile: CryptoProfile) {
  const alice = await profile.createIdentity({ preKeyCount: 1 });
  const bob = await profile.createIdentity({ preKeyCount: 1 });
  check((await alice.processBundle(BOB, bundleOf(bob))).ok, 'profile bundle');
  check((await bob.decrypt(ALICE, await alice.encrypt(BOB, PLAINTEXT))).ok, 'profile first message');
  check((await alice.decrypt(BOB, await bob.encrypt(ALICE, PLAINTEXT))).ok, 'profile reply');

  const sender = await profile.createIdentity({ preKeyCount: 0 });
  let n = 0;
  return {
    message: async () => {
      const o = await bob.decrypt(ALICE, await alice.encrypt(BOB, PLAINTEXT));
      if (!o.ok) throw new Error(o.message);
    },
    setup: async () => {
      const recipient = await profile.createIdentity({ preKeyCount: 1 });
      const to = `49${String(n++).padStart(10, '0')}@s.whatsapp.net`;
      const b = await sender.processBundle(to, bundleOf(recipient));
      if (!b.ok) throw new Error(b.message);
      const o = await recipient.decrypt(ALICE, await sender.encrypt(to, PLAINTEXT));
      if (!o.ok) throw new Error(o.message);
    },
  };
}

// ---- the suite -----------------------------------------------------------------------------

export async function run(opts: BenchOptions): Promise<SuiteReport> {
  const figures: Record<string, Figure> = {};
  const ratios: Record<string, Ratio> = {};
  const results: Result[] = [];
  const cases = [
    { id: signalPqxdh.id, profile: signalPqxdh, bare: bareClientPair, library: 'libsignal-client' },
    { id: signalX3dh.id, profile: signalX3dh, bare: bareNodePair, library: 'libsignal-node' },
  ];
  for (const c of cases) {
    const wrapped = await profileTasks(c.profile);
    const bare = await c.bare();
    const messages = await inRounds(opts, ROUNDS, 1, 'messages', {
      [`${c.id}/1kb-bare`]: async () => {
        await bare.message(PLAINTEXT);
      },
      [`${c.id}/1kb-profile`]: wrapped.message,
    });
    const sessions = await inRounds(opts, ROUNDS, 1, 'sessions', {
      [`${c.id}/setup-bare`]: () => bare.setup(PLAINTEXT),
      [`${c.id}/setup-profile`]: wrapped.setup,
    });
    Object.assign(figures, messages.best, sessions.best);
    ratios[`${c.id}/1kb-profile/bare`] = ratio(figures, `${c.id}/1kb-profile`, `${c.id}/1kb-bare`, {
      atLeast: 0.9,
    });
    ratios[`${c.id}/setup-profile/bare`] = ratio(figures, `${c.id}/setup-profile`, `${c.id}/setup-bare`);
    results.push(
      ratioResult(
        `crypto profile vs bare library, 1 KB messages, ${c.id}`,
        figures[`${c.id}/1kb-profile`]?.perSecond ?? 0,
        figures[`${c.id}/1kb-bare`]?.perSecond ?? 0,
        0.9,
        'messages/s',
        {
          baselineUnit: `messages/s (bare ${c.library})`,
          perRound: roundRatios(messages.each, `${c.id}/1kb-profile`, `${c.id}/1kb-bare`),
        },
      ),
    );
  }
  return { results, figures, ratios };
}
