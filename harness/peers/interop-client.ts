// How a third-party client joins: enlist over HTTP, then log in on the chat socket
// (docs/PROFILE.md §5.1, §5.2). Used by interop peers in the harness's own tests; the
// reference candidate implements the same steps on its own, as a vendor would.

import { randomBytes } from 'node:crypto';
import type { CryptoIdentity } from '../crypto/profile.ts';
import { el } from '../xml/node.ts';
import type { StanzaLink } from './link.ts';

export type EnlistReply = { status: 'ok'; login: string } | { status: 'fail'; reason: string };

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function uint(n: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/** The enlistment form of PROFILE.md §5.1 for an identity. */
export function enlistForm(identity: CryptoIdentity, authKey: Uint8Array, token: string): string {
  const spk = identity.keyUpload().signedPreKey;
  return new URLSearchParams({
    authkey: b64url(authKey),
    e_keytype: b64url(Uint8Array.of(0x05)),
    e_regid: b64url(uint(identity.registrationId, 4)),
    e_ident: b64url(identity.identityKey),
    e_skey_id: b64url(uint(spk.id, 3)),
    e_skey_val: b64url(spk.publicKey),
    e_skey_sig: b64url(spk.signature),
    token,
  }).toString();
}

export async function enlist(httpUrl: string, form: string): Promise<EnlistReply> {
  const res = await fetch(`${httpUrl}/3p/interop_reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  return (await res.json()) as EnlistReply;
}

export interface Credentials {
  readonly jid: string;
  readonly authKey: Uint8Array;
  readonly token: string;
}

export function newAuthKey(): Uint8Array {
  return randomBytes(32);
}

/**
 * Sends `<login>` on an open link and resolves on `<success>`. Subscribe whatever handles the
 * session (a Peer) to the link first: the mailbox follows `<success>` at once.
 */
export function logIn(link: StanzaLink, creds: Credentials, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`TIMEOUT: no answer to <login> within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = link.onStanza((node) => {
      if (node.tag !== 'success' && node.tag !== 'failure') return;
      clearTimeout(timer);
      off();
      if (node.tag === 'success') resolve();
      else reject(new Error(`login failed: ${node.attrs.reason ?? '?'} ${node.attrs.text ?? ''}`.trim()));
    });
    link.send(
      el('login', {
        jid: creds.jid,
        authkey: Buffer.from(creds.authKey).toString('base64'),
        token: creds.token,
      }),
    );
  });
}
