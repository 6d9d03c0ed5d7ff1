// Custom string formats of the stanza schemas. Each format maps to the violation code a
// failure of it produces, so the mapping lives beside the definition and cannot drift.

import type { ViolationCode } from '../codes.ts';
import { base64Length } from '../xml/base64.ts';

export interface StanzaFormat {
  readonly validate: (s: string) => boolean;
  readonly code: ViolationCode;
  readonly description: string;
}

const USER = '[0-9]{1,20}';
const DEVICE = '(?::[0-9]{1,3})?';
const INTEROP_USER = '[0-9]{1,10}-[0-9]{1,20}';
const JID = new RegExp(
  String.raw`^(?:${USER}${DEVICE}@(?:s\.whatsapp\.net|lid)|${INTEROP_USER}${DEVICE}@interop|[0-9]{5,30}(?:-[0-9]{1,12})?@g\.us)$`,
);
const INTEROP_JID = new RegExp(`^${INTEROP_USER}${DEVICE}@interop$`);

const bytesOf = (n: number): StanzaFormat => ({
  validate: (s) => base64Length(s) === n,
  code: 'VIO_SCHEMA_BAD_LENGTH',
  description: `base64 of exactly ${n} bytes`,
});

export const STANZA_FORMATS = {
  /** A user or device address (not the server itself). */
  jid: { validate: (s) => JID.test(s), code: 'VIO_SCHEMA_BAD_JID', description: 'a user or device JID' },
  /** A user or device address, or the server itself (acks of server stanzas go to the server). */
  address: {
    validate: (s) => s === 's.whatsapp.net' || JID.test(s),
    code: 'VIO_SCHEMA_BAD_JID',
    description: 'a user or device JID, or s.whatsapp.net',
  },
  /** A third-party (interop) user address. */
  'interop-jid': {
    validate: (s) => INTEROP_JID.test(s),
    code: 'VIO_SCHEMA_BAD_JID',
    description: 'an interop JID {integrator}-{user}[:device]@interop',
  },
  'message-id': {
    validate: (s) => /^[0-9A-F]{16,64}$/.test(s),
    code: 'VIO_SCHEMA_BAD_ID',
    description: '16 to 64 upper-case hex digits',
  },
  'stanza-id': {
    validate: (s) => /^[A-Za-z0-9._:-]{1,64}$/.test(s),
    code: 'VIO_SCHEMA_BAD_ID',
    description: '1 to 64 characters of [A-Za-z0-9._:-]',
  },
  timestamp: {
    validate: (s) => /^[1-9][0-9]{0,11}$/.test(s),
    code: 'VIO_SCHEMA_BAD_TIMESTAMP',
    description: 'unix seconds, decimal, no leading zero',
  },
  uint: {
    validate: (s) => /^(?:0|[1-9][0-9]{0,9})$/.test(s) && Number(s) <= 0xffffffff,
    code: 'VIO_SCHEMA_BAD_NUMBER',
    description: 'a decimal unsigned 32-bit integer, no leading zero',
  },
  b64: {
    validate: (s) => base64Length(s) > 0,
    code: 'VIO_SCHEMA_BAD_BASE64',
    description: 'canonical base64 of at least one byte',
  },
  jwt: {
    validate: (s) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(s),
    code: 'VIO_SCHEMA_BAD_ATTR_VALUE',
    description: 'a compact JWS (three base64url parts)',
  },
  'bytes-1': bytesOf(1),
  'bytes-3': bytesOf(3),
  'bytes-4': bytesOf(4),
  'bytes-32': bytesOf(32),
  'bytes-64': bytesOf(64),
  'bytes-1569': bytesOf(1569),
} as const satisfies Record<string, StanzaFormat>;

export type StanzaFormatName = keyof typeof STANZA_FORMATS;
