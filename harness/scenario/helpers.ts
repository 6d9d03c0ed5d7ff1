// Small helpers scenarios share: fixture files, hashes, and the candidate's view of content.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MediaFixture } from '../driver/contract.ts';

const FIXTURES = new URL('../../fixtures/media/', import.meta.url);

export function fixtureBytes(name: MediaFixture): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}

export function sha256hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A string that must never appear on the wire in the clear. */
export function canary(label: string): string {
  return `canary-${label}-${createHash('sha256').update(`${label}${Date.now()}`).digest('hex').slice(0, 16)}`;
}

/**
 * What a secret looks like on the wire if it leaks: itself, hex, and base64 at each of the three
 * byte alignments it can have inside a longer payload (base64 of a substring depends on where it
 * starts modulo 3, so one encoding of the secret alone would miss most leaks).
 */
export function wireNeedles(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const needles = [secret, bytes.toString('hex')];
  // Stryker disable next-line EqualityOperator: a fourth pass (k = 3) only repeats the needle of k = 0.
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // The first group mixes prefix and secret; the last may hold padding or the next bytes.
    needles.push(enc.slice(k === 0 ? 0 : 4, enc.length - 4));
  }
  return needles;
}
