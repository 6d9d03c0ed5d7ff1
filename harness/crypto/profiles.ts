// The crypto profiles by id (docs/PROFILE.md §6, docs/CRYPTO.md). A run uses the one its
// candidate declares, for every peer.

import { HarnessError } from '../codes.ts';
import type { CryptoProfile, CryptoProfileId } from './profile.ts';
import { signalPqxdh } from './signal-pqxdh.ts';
import { signalX3dh } from './signal-x3dh.ts';

export const PROFILES: Readonly<Record<CryptoProfileId, CryptoProfile>> = {
  'signal-pqxdh': signalPqxdh,
  'signal-x3dh': signalX3dh,
};

export function getProfile(id: CryptoProfileId): CryptoProfile {
  const profile = Object.hasOwn(PROFILES, id) ? PROFILES[id] : undefined;
  if (profile === undefined) throw new HarnessError('HRN_ERR_USAGE', `unknown crypto profile: ${String(id)}`);
  return profile;
}
