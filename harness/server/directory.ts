// The key directory (docs/PROFILE.md §5.3): uploads, counts, bundle fetches that hand out each
// one-time prekey once, signed-prekey rotation, and the low-prekey threshold.

import type {
  KeyUpload,
  KyberPreKeyPublic,
  PreKeyPublic,
  PublicBundle,
  SignedPreKeyPublic,
} from '../crypto/profile.ts';
import { verifyKyberPreKey, verifySignedPreKey } from '../crypto/signatures.ts';

export const MAX_STORED_PREKEYS = 1000;
export const LOW_PREKEY_THRESHOLD = 5;

export interface DirectoryEntry {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: SignedPreKeyPublic;
  signedPreKeyAt: number;
  kyberPreKey?: KyberPreKeyPublic;
  /** Unused one-time prekeys in upload order. */
  readonly preKeys: PreKeyPublic[];
  /** Every one-time prekey id ever stored for this identity: ids are never reused. */
  readonly seenPreKeyIds: Set<number>;
  /** The low-prekey notification went out and no upload has happened since. */
  lowNotified: boolean;
}

export type DirectoryResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: number; readonly text: string };

const fail = (code: number, text: string): DirectoryResult => ({ ok: false, code, text });

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export class KeyDirectory {
  readonly #entries = new Map<string, DirectoryEntry>();

  get(jid: string): DirectoryEntry | undefined {
    return this.#entries.get(jid);
  }

  has(jid: string): boolean {
    return this.#entries.has(jid);
  }

  /**
   * Stores an upload, all or nothing. `expected` pins the identity (an interop user's enlisted
   * keys): a different one is error 409. Without it (a WhatsApp user reinstalling) a new
   * identity replaces the old entry, and `identityChanged` says so.
   */
  upload(
    jid: string,
    up: KeyUpload,
    now: number,
    expected?: { registrationId: number; identityKey: Uint8Array },
  ): DirectoryResult & { identityChanged?: boolean } {
    if (
      expected &&
      (expected.registrationId !== up.registrationId || !sameBytes(expected.identityKey, up.identityKey))
    ) {
      return fail(409, 'registration or identity differs from the enlisted one');
    }
    if (!verifySignedPreKey(up.identityKey, up.signedPreKey))
      return fail(400, 'signed prekey signature does not verify');
    if (up.kyberPreKey && !verifyKyberPreKey(up.identityKey, up.kyberPreKey)) {
      return fail(400, 'Kyber prekey signature does not verify');
    }
    const old = this.#entries.get(jid);
    const identityChanged = old !== undefined && !sameBytes(old.identityKey, up.identityKey);
    const base = old && !identityChanged ? old : undefined;
    const seen = new Set(base?.seenPreKeyIds ?? []);
    const ids = new Set<number>();
    for (const k of up.preKeys) {
      if (seen.has(k.id) || ids.has(k.id)) return fail(400, `one-time prekey id ${k.id} was used before`);
      ids.add(k.id);
    }
    const stored = (base?.preKeys.length ?? 0) + up.preKeys.length;
    if (stored > MAX_STORED_PREKEYS)
      return fail(413, `more than ${MAX_STORED_PREKEYS} stored one-time prekeys`);
    for (const id of ids) seen.add(id);
    const rotated = !base || base.signedPreKey.id !== up.signedPreKey.id;
    const entry: DirectoryEntry = {
      registrationId: up.registrationId,
      identityKey: up.identityKey,
      signedPreKey: up.signedPreKey,
      signedPreKeyAt: rotated ? now : base.signedPreKeyAt,
      preKeys: [...(base?.preKeys ?? []), ...up.preKeys],
      seenPreKeyIds: seen,
      lowNotified: false,
      ...(up.kyberPreKey ? { kyberPreKey: up.kyberPreKey } : {}),
    };
    this.#entries.set(jid, entry);
    return { ok: true, identityChanged };
  }

  /** Signed-prekey (and Kyber) rotation: the new id must differ (PROFILE.md §5.3). */
  rotate(
    jid: string,
    spk: SignedPreKeyPublic,
    kyber: KyberPreKeyPublic | undefined,
    now: number,
  ): DirectoryResult {
    const e = this.#entries.get(jid);
    if (!e) return fail(404, 'no keys uploaded');
    if (spk.id === e.signedPreKey.id) return fail(400, 'the new signed prekey id equals the current one');
    if (!verifySignedPreKey(e.identityKey, spk)) return fail(400, 'signed prekey signature does not verify');
    if (kyber && !verifyKyberPreKey(e.identityKey, kyber))
      return fail(400, 'Kyber prekey signature does not verify');
    e.signedPreKey = spk;
    e.signedPreKeyAt = now;
    if (kyber) e.kyberPreKey = kyber;
    return { ok: true };
  }

  count(jid: string): number {
    return this.#entries.get(jid)?.preKeys.length ?? 0;
  }

  /** A bundle for `jid`, handing out (and deleting) its oldest one-time prekey. */
  fetch(jid: string): PublicBundle | undefined {
    const e = this.#entries.get(jid);
    if (!e) return undefined;
    const preKey = e.preKeys.shift();
    return {
      registrationId: e.registrationId,
      identityKey: e.identityKey,
      signedPreKey: e.signedPreKey,
      ...(preKey ? { preKey } : {}),
      ...(e.kyberPreKey ? { kyberPreKey: e.kyberPreKey } : {}),
    };
  }

  /** True once when the count falls below the threshold; false until the next upload. */
  takeLowNotification(jid: string): boolean {
    const e = this.#entries.get(jid);
    if (!e || e.lowNotified || e.preKeys.length >= LOW_PREKEY_THRESHOLD) return false;
    e.lowNotified = true;
    return true;
  }

  /** Fault knob: hand out every one-time prekey, so the next bundle has none. */
  exhaust(jid: string): number {
    const e = this.#entries.get(jid);
    if (!e) return 0;
    const n = e.preKeys.length;
    e.preKeys.length = 0;
    return n;
  }

  /** Forgets a user's keys (re-enlistment discards the old one-time prekeys). */
  reset(jid: string): void {
    this.#entries.delete(jid);
  }
}
