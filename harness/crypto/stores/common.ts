// Store pieces both crypto profiles share: key bytes, the remote identities on record, the
// record of first messages already accepted, and the queue that runs one identity's
// operations one at a time.

import { randomBytes } from 'node:crypto';
import { HarnessError } from '../../codes.ts';
import { DJB_TYPE } from '../inspect.ts';

// ---- key bytes -----------------------------------------------------------------------------

/** Raw 32-byte Curve25519 key -> the 33-byte form the libraries use (type byte 0x05 first). */
export function withType(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(33);
  out[0] = DJB_TYPE;
  out.set(raw, 1);
  return out;
}

/** The 33-byte library form -> raw 32 bytes. */
export function withoutType(serialized: Uint8Array): Uint8Array<ArrayBuffer> {
  if (serialized.length !== 33 || serialized[0] !== DJB_TYPE) {
    throw new HarnessError(
      'HRN_ERR_CRYPTO',
      `expected a 33-byte Curve25519 key, got ${serialized.length} bytes`,
    );
  }
  return Uint8Array.from(serialized.subarray(1));
}

/** A copy backed by a plain ArrayBuffer, the form libsignal-client's signatures ask for. */
export function copyBytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** A random registration id over the whole uint32 range except 0 (which reads as "absent"). */
export function randomRegistrationId(): number {
  return randomBytes(4).readUInt32BE(0) || 1;
}

// ---- one identity's operations, one at a time ----------------------------------------------

// Both libraries read a session record, work on it across awaits, and write it back. Two
// operations on one identity interleaving (two messages from one peer decrypted at once) would
// lose one write, so every operation of an identity goes through its queue.
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

// ---- remote identities ---------------------------------------------------------------------

/**
 * The identity key on record per peer, by the JID's user part: the interop profile gives each
 * user exactly one device, so a user has one identity (docs/PROFILE.md §3).
 *
 * Trust is "known and equal, or not known yet": a changed key is refused until the harness
 * accepts it with `trust()`, as a client does after showing the security notice.
 */
export class IdentityBook {
  #keys = new Map<string, Uint8Array>();

  get(name: string): Uint8Array | undefined {
    const k = this.#keys.get(name);
    return k && Uint8Array.from(k);
  }

  isTrusted(name: string, raw: Uint8Array): boolean {
    const known = this.#keys.get(name);
    return known === undefined || bytesEqual(known, raw);
  }

  /** Records a key; true when it replaced a different one. */
  save(name: string, raw: Uint8Array): boolean {
    const known = this.#keys.get(name);
    this.#keys.set(name, Uint8Array.from(raw));
    return known !== undefined && !bytesEqual(known, raw);
  }

  snapshot(): [string, Uint8Array][] {
    return [...this.#keys].map(([k, v]) => [k, Uint8Array.from(v)]);
  }

  restore(entries: readonly (readonly [string, Uint8Array])[]): void {
    this.#keys = new Map(entries.map(([k, v]) => [k, Uint8Array.from(v)]));
  }
}

// ---- first messages already accepted -------------------------------------------------------

/**
 * Every first message (pkmsg) this identity decrypted, by sender, base key, ratchet key and
 * counter.
 *
 * The libraries catch a replayed pkmsg only while its session exists and, for a one-time
 * prekey, while the prekey is gone. A replay after the session was dropped (identity change,
 * reset) and without a one-time prekey would set the session up again and show the message a
 * second time, which the profile forbids (§6). The record closes that gap for both profiles.
 * A sender sends pkmsgs only until the first reply, so the record stays small; the cap bounds
 * it against a flood of distinct first messages.
 */
export class FirstMessageLedger {
  static readonly CAP = 10_000;
  #seen = new Set<string>();

  static key(address: string, baseKey: Uint8Array, ratchetKey: Uint8Array, counter: number): string {
    return `${address}/${toHex(baseKey)}/${toHex(ratchetKey)}/${counter}`;
  }

  has(key: string): boolean {
    return this.#seen.has(key);
  }

  add(key: string): void {
    this.#seen.add(key);
    if (this.#seen.size > FirstMessageLedger.CAP) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  snapshot(): string[] {
    return [...this.#seen];
  }

  restore(keys: readonly string[]): void {
    this.#seen = new Set(keys);
  }
}
