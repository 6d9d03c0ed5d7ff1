// Enlistment (PROFILE.md §5.1): the form a candidate posts to `/3p/interop_reg`, its checks in a
// fixed order, the per-sub rate limit, and the hand-over to the core's Enlister. The HTTP layer
// (http.ts) only reads the body; every decision and every transcript line is made here.

import type { ViolationCode } from '../codes.ts';
import { KEY_TYPE_DJB } from '../crypto/bundle.ts';
import type { SignedPreKeyPublic } from '../crypto/profile.ts';
import { verifySignedPreKey } from '../crypto/signatures.ts';
import { TOKEN_MAX_CHARS } from './partner.ts';
import type { Clock, Enlister, EnlistFields, EnlistResult, TokenVerifier, TranscriptSink } from './types.ts';

export const ENLIST_RATE_LIMIT = 10;
export const ENLIST_RATE_WINDOW_MS = 60_000;

export type EnlistFailReason = Extract<EnlistResult, { status: 'fail' }>['reason'];

const REASON_CODE = {
  bad_request: 'VIO_ENLIST_BAD_REQUEST',
  bad_key_type: 'VIO_ENLIST_BAD_KEY_TYPE',
  bad_signature: 'VIO_ENLIST_BAD_SIGNATURE',
  bad_token: 'VIO_ENLIST_BAD_TOKEN',
  rate_limited: 'VIO_ENLIST_RATE_LIMITED',
} as const satisfies Record<EnlistFailReason, ViolationCode>;

/** The byte fields and their exact lengths; `token` is text and checked apart. */
const BYTE_FIELDS = {
  authkey: 32,
  e_keytype: 1,
  e_regid: 4,
  e_ident: 32,
  e_skey_id: 3,
  e_skey_val: 32,
  e_skey_sig: 64,
} as const;
type ByteField = keyof typeof BYTE_FIELDS;
const FIELD_NAMES: readonly string[] = [...Object.keys(BYTE_FIELDS), 'token'];

export type ParsedEnlistForm =
  | { readonly ok: true; readonly fields: EnlistFields }
  | { readonly ok: false; readonly detail: string };

/**
 * Reads an `application/x-www-form-urlencoded` body: every field of §5.1 exactly once, none
 * other, byte fields base64url (padding optional) of their exact length, the token as is.
 */
export function parseEnlistForm(body: string): ParsedEnlistForm {
  const seen = new Map<string, string>();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = formDecode(eq === -1 ? pair : pair.slice(0, eq));
      value = eq === -1 ? '' : formDecode(pair.slice(eq + 1));
    } catch {
      return { ok: false, detail: 'body is not valid form encoding' };
    }
    if (!FIELD_NAMES.includes(name)) return { ok: false, detail: `unknown field ${JSON.stringify(name)}` };
    if (seen.has(name)) return { ok: false, detail: `field ${name} is repeated` };
    seen.set(name, value);
  }

  const bytes = {} as Record<ByteField, Uint8Array>;
  for (const [name, length] of Object.entries(BYTE_FIELDS) as [ByteField, number][]) {
    const value = seen.get(name);
    if (value === undefined) return { ok: false, detail: `field ${name} is missing` };
    const decoded = decodeBase64Url(value);
    if (decoded === undefined) return { ok: false, detail: `field ${name} is not base64url` };
    if (decoded.length !== length) {
      return { ok: false, detail: `field ${name} is ${decoded.length} bytes, not ${length}` };
    }
    bytes[name] = decoded;
  }
  const token = seen.get('token');
  if (token === undefined) return { ok: false, detail: 'field token is missing' };
  if (token.length === 0) return { ok: false, detail: 'field token is empty' };
  if (token.length > TOKEN_MAX_CHARS) {
    return { ok: false, detail: `field token is longer than ${TOKEN_MAX_CHARS} characters` };
  }

  const signedPreKey: SignedPreKeyPublic = {
    id: readUintBE(bytes.e_skey_id),
    publicKey: bytes.e_skey_val,
    signature: bytes.e_skey_sig,
  };
  return {
    ok: true,
    fields: {
      authKey: bytes.authkey,
      keyType: bytes.e_keytype[0] as number,
      registrationId: readUintBE(bytes.e_regid),
      identityKey: bytes.e_ident,
      signedPreKey,
      token,
    },
  };
}

function formDecode(s: string): string {
  return decodeURIComponent(s.replaceAll('+', ' '));
}

function readUintBE(b: Uint8Array): number {
  let n = 0;
  for (const byte of b) n = n * 256 + byte;
  return n;
}

/** Canonical base64url: unpadded or correctly padded, no stray bits in the last character. */
export function decodeBase64Url(s: string): Uint8Array | undefined {
  const m = /^([A-Za-z0-9_-]*)(={0,2})$/.exec(s);
  if (m === null) return undefined;
  const data = m[1] ?? '';
  const pad = m[2] ?? '';
  if (data.length % 4 === 1) return undefined;
  if (pad.length > 0 && (data.length + pad.length) % 4 !== 0) return undefined;
  const bytes = Buffer.from(data, 'base64url');
  // Node ignores the unused low bits of the last character; canonical encoding has them zero.
  if (bytes.toString('base64url') !== data) return undefined;
  return new Uint8Array(bytes);
}

// The signed-prekey check is shared with the key directory.
export { verifySignedPreKey };

/** Counts enlistments per `sub` over a sliding window of server time. */
export interface EnlistLimiter {
  /** True when one more enlistment for `sub` is within the limit; it is then counted. */
  admit(sub: string): boolean;
}

export function createEnlistLimiter(
  clock: Clock,
  limit = ENLIST_RATE_LIMIT,
  windowMs = ENLIST_RATE_WINDOW_MS,
): EnlistLimiter {
  const recent = new Map<string, number[]>();
  return {
    admit(sub) {
      const now = clock.now();
      const kept = (recent.get(sub) ?? []).filter((t) => t > now - windowMs);
      // A refused attempt is not counted: the sub is free again 60 s after its earliest
      // admitted enlistment, however hard it retries meanwhile.
      const admitted = kept.length < limit;
      if (admitted) kept.push(now);
      if (kept.length === 0) recent.delete(sub);
      else recent.set(sub, kept);
      return admitted;
    },
  };
}

export interface EnlistDeps {
  readonly verifier: TokenVerifier;
  readonly enlister: Enlister;
  readonly transcript: TranscriptSink;
  readonly limiter: EnlistLimiter;
}

/** Records a refused enlistment with its violation code and returns the reply. */
export function refuseEnlistment(
  transcript: TranscriptSink,
  reason: EnlistFailReason,
  detail: string,
  sub?: string,
): EnlistResult {
  const code = REASON_CODE[reason];
  transcript.event({
    event: 'enlist',
    detail: { status: 'fail', reason, detail, ...(sub === undefined ? {} : { sub }) },
    violations: [{ code, message: detail }],
  });
  return { status: 'fail', reason, detail };
}

/**
 * The checks of §5.1 in the order the failure reasons are listed — cheapest first, so a
 * malformed form never costs a signature check — then the rate limit, then the core.
 */
export async function handleEnlistment(body: string, deps: EnlistDeps): Promise<EnlistResult> {
  const { transcript } = deps;
  const parsed = parseEnlistForm(body);
  if (!parsed.ok) return refuseEnlistment(transcript, 'bad_request', parsed.detail);
  const { fields } = parsed;
  if (fields.keyType !== KEY_TYPE_DJB) {
    return refuseEnlistment(
      transcript,
      'bad_key_type',
      `e_keytype is 0x${fields.keyType.toString(16).padStart(2, '0')}, not 0x05`,
    );
  }
  if (!verifySignedPreKey(fields.identityKey, fields.signedPreKey)) {
    return refuseEnlistment(transcript, 'bad_signature', 'e_skey_sig does not verify under e_ident');
  }
  const check = await deps.verifier.verify(fields.token);
  if (!check.ok) return refuseEnlistment(transcript, 'bad_token', check.detail);
  if (!deps.limiter.admit(check.sub)) {
    return refuseEnlistment(
      transcript,
      'rate_limited',
      `more than ${ENLIST_RATE_LIMIT} enlistments for sub ${check.sub} in ${ENLIST_RATE_WINDOW_MS / 1000} s`,
      check.sub,
    );
  }

  const result = deps.enlister.enlist(fields, check.sub);
  if (result.status === 'ok') {
    transcript.event({ event: 'enlist', address: result.login, detail: { status: 'ok', sub: check.sub } });
  } else {
    // The core refused on its own grounds; it is still the candidate's enlistment that failed.
    transcript.event({
      event: 'enlist',
      detail: { status: 'fail', reason: result.reason, detail: result.detail, sub: check.sub },
      violations: [{ code: REASON_CODE[result.reason], message: result.detail }],
    });
  }
  return result;
}
