// JID -> the address a Signal library keys its sessions and identities by.
//
// Signal libraries address a peer as (name, device). A JID's user part is the name and its
// device suffix the device; no suffix means device 0 (docs/PROFILE.md §3), so `491701234567@s.whatsapp.net`
// and `491701234567:0@s.whatsapp.net` are the same address.

import { HarnessError } from '../codes.ts';

export interface LibraryAddress {
  /** The JID's user part: digits, or `{integrator}-{user}` for interop users. */
  readonly name: string;
  readonly deviceId: number;
}

// User JIDs only: a group has no identity keys, and a privacy id (`@lid`) is addressed like a
// phone number. Names never contain a dot, which libsignal-node reserves as its separator.
const USER_JID = /^([0-9]{1,20}|[0-9]{1,10}-[0-9]{1,20})(?::([0-9]{1,3}))?@(?:s\.whatsapp\.net|lid|interop)$/;

export function toLibraryAddress(jid: string): LibraryAddress {
  const m = USER_JID.exec(jid);
  const name = m?.[1];
  if (name === undefined) {
    throw new HarnessError('HRN_ERR_INTERNAL', `not a user JID a session can be addressed to: ${jid}`);
  }
  return { name, deviceId: m?.[2] === undefined ? 0 : Number(m[2]) };
}

/** One string per address, for map keys: `name.device` (libsignal-node's own encoding). */
export function addressKey(address: LibraryAddress): string {
  return `${address.name}.${address.deviceId}`;
}
