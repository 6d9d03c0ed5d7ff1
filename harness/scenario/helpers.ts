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
