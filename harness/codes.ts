// Every coded finding the harness can raise, in one table.
//
// VIO_* codes are violations: the candidate (or a stanza under test) broke a rule. HRN_ERR_*
// codes are harness errors: something on our side or in the driving machinery failed, which
// is never blamed on the candidate. Codes are stable strings: add new ones, never rename or
// reuse one, because vendors' waivers, CI expectation files and fixture folders name them.

export type CodeCategory =
  | 'xml'
  | 'stanza'
  | 'schema'
  | 'crypto'
  | 'content'
  | 'media'
  | 'session'
  | 'transport'
  | 'behaviour'
  | 'harness';

interface CodeInfo {
  readonly category: CodeCategory;
  readonly summary: string;
}

export const CODES = {
  // Stanza codec (harness/xml): the text could not be accepted as one stanza.
  VIO_XML_EMPTY: { category: 'xml', summary: 'The frame holds no element.' },
  VIO_XML_TOO_LARGE: { category: 'xml', summary: 'The stanza is larger than the size limit.' },
  VIO_XML_INVALID_UTF8: { category: 'xml', summary: 'The frame is not valid UTF-8.' },
  VIO_XML_INVALID_CHAR: { category: 'xml', summary: 'The stanza contains a character XML forbids.' },
  VIO_XML_DOCTYPE: { category: 'xml', summary: 'A DOCTYPE declaration is not allowed in a stanza.' },
  VIO_XML_PI: { category: 'xml', summary: 'Processing instructions (including <?xml?>) are not allowed.' },
  VIO_XML_COMMENT: { category: 'xml', summary: 'Comments are not allowed in a stanza.' },
  VIO_XML_CDATA: { category: 'xml', summary: 'CDATA sections are not allowed in a stanza.' },
  VIO_XML_ENTITY: {
    category: 'xml',
    summary: 'An entity other than the five predefined ones (or a bad character reference).',
  },
  VIO_XML_TOO_DEEP: { category: 'xml', summary: 'Elements are nested deeper than the limit.' },
  VIO_XML_TOO_MANY_NODES: { category: 'xml', summary: 'The stanza has more elements than the limit.' },
  VIO_XML_MULTIPLE_ROOTS: { category: 'xml', summary: 'The frame holds more than one root element.' },
  VIO_XML_MALFORMED: { category: 'xml', summary: 'The text is not well-formed XML.' },
  VIO_XML_DUPLICATE_ATTR: { category: 'xml', summary: 'An attribute appears twice on one element.' },
  VIO_XML_TOO_MANY_ATTRS: { category: 'xml', summary: 'An element has more attributes than the limit.' },
  VIO_XML_ATTR_TOO_LONG: { category: 'xml', summary: 'An attribute value is longer than the limit.' },
  VIO_XML_BAD_NAME: {
    category: 'xml',
    summary: 'An element or attribute name is invalid, prefixed, too long or reserved (__proto__).',
  },
  VIO_XML_MIXED_CONTENT: { category: 'xml', summary: 'An element holds both text and child elements.' },
  VIO_XML_BAD_BASE64: { category: 'xml', summary: 'Element text is not canonical base64.' },

  // Stanza classification (harness/schema): which kind of stanza this is.
  VIO_STANZA_UNKNOWN_KIND: { category: 'stanza', summary: 'The stanza is not a kind the profile defines.' },
  VIO_STANZA_WRONG_DIRECTION: {
    category: 'stanza',
    summary: 'The stanza kind exists, but not in this direction (client to server or server to client).',
  },

  // Schema validation (harness/schema): the stanza's shape breaks its kind's schema.
  VIO_SCHEMA_MISSING_ATTR: { category: 'schema', summary: 'A required attribute is missing.' },
  VIO_SCHEMA_UNEXPECTED_ATTR: { category: 'schema', summary: 'An attribute the kind does not define.' },
  VIO_SCHEMA_BAD_ATTR_VALUE: { category: 'schema', summary: 'An attribute value outside its allowed set.' },
  VIO_SCHEMA_MISSING_CHILD: { category: 'schema', summary: 'A required child element is missing.' },
  VIO_SCHEMA_UNEXPECTED_CHILD: { category: 'schema', summary: 'A child element the kind does not define.' },
  VIO_SCHEMA_CHILD_COUNT: {
    category: 'schema',
    summary: 'A child element appears too few or too many times.',
  },
  VIO_SCHEMA_MISSING_CONTENT: { category: 'schema', summary: 'An element that must carry bytes is empty.' },
  VIO_SCHEMA_UNEXPECTED_CONTENT: {
    category: 'schema',
    summary: 'An element carries bytes where none belong.',
  },
  VIO_SCHEMA_BAD_JID: { category: 'schema', summary: 'An address (JID) is malformed or of the wrong type.' },
  VIO_SCHEMA_BAD_ID: { category: 'schema', summary: 'A message or stanza id is malformed.' },
  VIO_SCHEMA_BAD_TIMESTAMP: { category: 'schema', summary: 'A timestamp is not unix seconds.' },
  VIO_SCHEMA_BAD_NUMBER: { category: 'schema', summary: 'A numeric attribute is not a decimal in range.' },
  VIO_SCHEMA_BAD_LENGTH: {
    category: 'schema',
    summary: 'Bytes of the wrong length (keys, ids, signatures).',
  },
  VIO_SCHEMA_BAD_BASE64: { category: 'schema', summary: 'An attribute that carries bytes is not base64.' },
  VIO_SCHEMA_TOO_LARGE: { category: 'schema', summary: 'A value or payload is larger than its kind allows.' },

  // End-to-end encryption (harness/crypto): a ciphertext could not be accepted.
  VIO_CRYPTO_DUPLICATE: {
    category: 'crypto',
    summary: 'A message was decrypted before: a duplicate or a replay (its message key is spent).',
  },
  VIO_CRYPTO_BAD_MAC: {
    category: 'crypto',
    summary: 'Message authentication failed: the ciphertext was tampered.',
  },
  VIO_CRYPTO_UNTRUSTED_IDENTITY: {
    category: 'crypto',
    summary: "The sender's identity key differs from the one on record for that address.",
  },
  VIO_CRYPTO_INVALID_MESSAGE: {
    category: 'crypto',
    summary: 'The ciphertext is malformed or truncated and cannot be parsed as a Signal message.',
  },
  VIO_CRYPTO_UNSUPPORTED_VERSION: {
    category: 'crypto',
    summary: "The message's version is not the one of the crypto profile (a downgrade or an upgrade).",
  },
  VIO_CRYPTO_NO_SESSION: {
    category: 'crypto',
    summary: 'A session message (msg) arrived where no session exists.',
  },
  VIO_CRYPTO_MISSING_PREKEY: {
    category: 'crypto',
    summary: 'A first message (pkmsg) names a one-time, signed or Kyber prekey the receiver does not have.',
  },
  VIO_CRYPTO_INVALID_BUNDLE: {
    category: 'crypto',
    summary: 'A key bundle is incomplete or its signed-prekey signature does not verify.',
  },

  // Message content (harness/crypto/content): the decrypted plaintext is not a valid message.
  VIO_CONTENT_BAD_PADDING: {
    category: 'content',
    summary: 'The plaintext does not end in N bytes of value N, with N from 1 to 16.',
  },
  VIO_CONTENT_INVALID_PROTOBUF: {
    category: 'content',
    summary: 'The unpadded plaintext is not a valid Message protobuf.',
  },
  VIO_CONTENT_EMPTY: {
    category: 'content',
    summary: 'The Message carries none of the content types of the profile.',
  },

  // Media (harness/crypto/media): checks in the order a receiver must make them.
  VIO_MEDIA_TRUNCATED: {
    category: 'media',
    summary: 'The blob is too short to hold a ciphertext block and its MAC.',
  },
  VIO_MEDIA_ENC_HASH_MISMATCH: {
    category: 'media',
    summary: 'SHA-256 of the downloaded blob is not fileEncSha256.',
  },
  VIO_MEDIA_BAD_MAC: {
    category: 'media',
    summary: 'The 10-byte HMAC-SHA256 over iv and ciphertext does not match.',
  },
  VIO_MEDIA_DECRYPT_FAILED: {
    category: 'media',
    summary: 'AES-256-CBC decryption failed (bad length or padding).',
  },
  VIO_MEDIA_PLAIN_HASH_MISMATCH: {
    category: 'media',
    summary: 'SHA-256 of the decrypted file is not fileSha256.',
  },
  VIO_MEDIA_LENGTH_MISMATCH: { category: 'media', summary: 'The decrypted file length is not fileLength.' },
  VIO_MEDIA_UPLOAD_HASH_MISMATCH: {
    category: 'media',
    summary: 'SHA-256 of an uploaded blob is not the fileEncSha256 its upload path names.',
  },

  // Enlistment and login (harness/server): the candidate's enlistment was refused.
  VIO_ENLIST_BAD_REQUEST: {
    category: 'session',
    summary: 'An enlistment field is missing, repeated, unknown, not base64url or of the wrong length.',
  },
  VIO_ENLIST_BAD_KEY_TYPE: {
    category: 'session',
    summary: 'The enlistment key type (e_keytype) is not 0x05.',
  },
  VIO_ENLIST_BAD_SIGNATURE: {
    category: 'session',
    summary: 'The enlisted signed prekey signature does not verify under the identity key.',
  },
  VIO_ENLIST_BAD_TOKEN: { category: 'session', summary: 'The partner token of an enlistment fails a check.' },
  VIO_ENLIST_RATE_LIMITED: {
    category: 'session',
    summary: 'More than 10 enlistments for one partner user (sub) within 60 s.',
  },

  // Transport and connection (harness/server/connection): what a client did to the link.
  VIO_TRANSPORT_BINARY_FRAME: {
    category: 'transport',
    summary: 'A binary frame: the profile carries text frames only.',
  },
  VIO_TRANSPORT_FLOOD: {
    category: 'transport',
    summary: 'More frames in one second than the server allows.',
  },
  VIO_TRANSPORT_TOO_MANY_VIOLATIONS: {
    category: 'transport',
    summary: 'The connection reached the limit of violations and was closed.',
  },
  VIO_TRANSPORT_PING_TIMEOUT: {
    category: 'transport',
    summary: "The client did not answer the server's ping in time.",
  },
  VIO_SESSION_NOT_LOGGED_IN: {
    category: 'session',
    summary: 'A stanza other than <login> before a successful login.',
  },
  VIO_SESSION_LOGIN_TWICE: {
    category: 'session',
    summary: 'A second <login> on a connection that is logged in.',
  },
  VIO_SESSION_LOGIN_TIMEOUT: {
    category: 'session',
    summary: 'No <login> within the deadline after the upgrade.',
  },
  VIO_SESSION_LOGIN_FAILED: {
    category: 'session',
    summary: 'A login the server refused: unknown address, wrong authkey, bad token or rate limit.',
  },
  VIO_SESSION_UNENLISTED: {
    category: 'session',
    summary: 'A login after 30 days away: the address was un-enlisted.',
  },
  VIO_ROUTE_UNKNOWN_RECIPIENT: {
    category: 'session',
    summary: 'A message or fetch for an address the server does not know.',
  },
  VIO_ROUTE_NOT_OPTED_IN: {
    category: 'session',
    summary: 'A message or fetch for a WhatsApp user who has not opted in to third-party chats.',
  },
  VIO_ROUTE_UNSUPPORTED: {
    category: 'session',
    summary: 'A message the profile does not route (group address, skmsg).',
  },
  VIO_KEYS_REFUSED: {
    category: 'session',
    summary: 'A key upload or rotation the directory refused (bad signature, reused id, identity mismatch).',
  },

  // Behaviour (harness/scenario): what scenarios observe the candidate do, or fail to do.
  VIO_MSG_NOT_SHOWN: {
    category: 'behaviour',
    summary: 'A message sent to the candidate was never shown to its user.',
  },
  VIO_MSG_CONTENT_MISMATCH: {
    category: 'behaviour',
    summary:
      'The content the candidate showed differs from what was sent (text, caption, media hash, quote).',
  },
  VIO_E2EE_REPLAY_ACCEPTED: {
    category: 'behaviour',
    summary: 'A replayed message was shown to the user again.',
  },
  VIO_E2EE_TAMPER_ACCEPTED: { category: 'behaviour', summary: 'A tampered message was shown to the user.' },
  VIO_E2EE_WRONG_REASON: {
    category: 'behaviour',
    summary:
      'A bad message was refused, but for another reason than the one it has (right result, wrong reason).',
  },
  VIO_RCPT_MISSING: { category: 'behaviour', summary: 'An expected receipt never came.' },
  VIO_PRIV_PLAINTEXT_LEAK: {
    category: 'behaviour',
    summary: 'Plaintext content (a canary) appeared in the clear in a frame or a media upload.',
  },
  VIO_PRIV_BAD_PADDING_ACCEPTED: {
    category: 'behaviour',
    summary: 'A message with invalid padding was shown instead of refused.',
  },
  VIO_PRIV_BASE_KEY_REUSED: {
    category: 'behaviour',
    summary: 'The candidate used one base key for two first messages.',
  },
  VIO_PRIV_PREKEY_ID_REUSED: {
    category: 'behaviour',
    summary: 'A one-time prekey id was uploaded or consumed twice.',
  },
  VIO_PRIV_MEDIA_KEY_REUSED: {
    category: 'behaviour',
    summary: 'One media key was used for two media messages.',
  },
  VIO_E2EE_PREKEY_REUSE_ACCEPTED: {
    category: 'behaviour',
    summary: 'A first message naming an already consumed one-time prekey was accepted.',
  },
  VIO_E2EE_MESSAGE_KEY_REUSED: {
    category: 'behaviour',
    summary: "The candidate's ratchet did not advance: a message key or ratchet key was reused.",
  },
  VIO_E2EE_OUT_OF_ORDER_DROPPED: {
    category: 'behaviour',
    summary: 'A message that arrived out of order was never shown.',
  },
  VIO_E2EE_NO_SECURITY_NOTICE: {
    category: 'behaviour',
    summary: "No security notice was shown when a contact's identity changed.",
  },
  VIO_E2EE_RETRY_MISSING: {
    category: 'behaviour',
    summary: 'No retry receipt was sent for a message that failed to decrypt.',
  },
  VIO_E2EE_RETRY_UNANSWERED: {
    category: 'behaviour',
    summary: 'A retry receipt for a message the candidate sent was not answered with a re-send.',
  },
  VIO_E2EE_DOWNGRADE: {
    category: 'behaviour',
    summary: 'The candidate sent or accepted a protocol version below the one it declared.',
  },
  VIO_E2EE_WRONG_MESSAGE_TYPE: {
    category: 'behaviour',
    summary: 'The candidate sent msg before the peer answered its session, or pkmsg after.',
  },
  VIO_E2EE_OLD_SESSION_KEPT: {
    category: 'behaviour',
    summary: "The candidate encrypted to a contact's old identity after it changed.",
  },
  VIO_E2EE_SESSION_LOST: {
    category: 'behaviour',
    summary: 'A bad message cost the candidate its session: the genuine messages after it did not decrypt.',
  },
  VIO_KEYS_TOO_FEW_PREKEYS: {
    category: 'behaviour',
    summary: 'The first upload held fewer one-time prekeys than the profile requires.',
  },
  VIO_KEYS_NO_TOP_UP: {
    category: 'behaviour',
    summary: 'No one-time prekeys were uploaded after the low-prekey notification.',
  },
  VIO_KEYS_NO_ROTATION: {
    category: 'behaviour',
    summary: 'The signed prekey was not rotated within the period of the profile.',
  },
  VIO_KEYS_NO_BUNDLE_FETCH: {
    category: 'behaviour',
    summary: "A first message was sent without fetching the peer's bundle before it.",
  },
  VIO_RCPT_READ_MISSING: {
    category: 'behaviour',
    summary: 'No read receipt was sent for messages the user read.',
  },
  VIO_RCPT_WRONG_ID: {
    category: 'behaviour',
    summary: 'A receipt names other messages than the ones it is for.',
  },
  VIO_RCPT_UNDECRYPTABLE_RECEIPTED: {
    category: 'behaviour',
    summary: 'A delivery receipt was sent for a message that could not be decrypted.',
  },
  VIO_MEDIA_ENC_HASH_NOT_CHECKED: {
    category: 'behaviour',
    summary: 'Media whose blob does not match fileEncSha256 was shown.',
  },
  VIO_MEDIA_SHOWN_UNCHECKED: {
    category: 'behaviour',
    summary: 'Media that fails an integrity check (MAC, padding, plaintext hash, length) was shown.',
  },
  VIO_MEDIA_NOT_UPLOADED: {
    category: 'behaviour',
    summary: "Media was sent without an accepted upload to the server's media host.",
  },
  VIO_MEDIA_FOREIGN_HOST: {
    category: 'behaviour',
    summary: 'Media was fetched from a host other than the ones media_conn gave.',
  },
  VIO_MSG_MEDIATYPE_MISMATCH: {
    category: 'behaviour',
    summary: 'The stanza type or mediatype does not match the encrypted content.',
  },
  VIO_BLOCK_SHOWN: {
    category: 'behaviour',
    summary: 'Something from a blocked contact was shown.',
  },
  VIO_BLOCK_LIST_NOT_FETCHED: {
    category: 'behaviour',
    summary: 'The blocklist was not fetched after login.',
  },
  VIO_TYPING_WRONG_RECIPIENT: {
    category: 'behaviour',
    summary: 'A chat state went to someone other than the peer of the chat.',
  },
  VIO_TYPING_NOT_SENT: {
    category: 'behaviour',
    summary: 'No chat state (or not the one the user did) went to the peer while the user typed.',
  },
  VIO_BLOCK_NOT_SENT: {
    category: 'behaviour',
    summary: 'A block or unblock by the user was not sent to the server as a blocklist change.',
  },
  VIO_BLOCK_LEAK: {
    category: 'behaviour',
    summary: 'A read or played receipt, chat state or presence went to a contact the user blocked.',
  },
  VIO_BLOCK_OPT_IN_MISHANDLED: {
    category: 'behaviour',
    summary:
      'A message refused because its recipient has not opted in was not shown as failed, or was sent again.',
  },
  VIO_ROBUST_INVALID_SHOWN: {
    category: 'behaviour',
    summary: 'An invalid payload was shown or acked as a valid message instead of nacked.',
  },
  VIO_ROBUST_FENCE_MISSED: {
    category: 'behaviour',
    summary: 'After hostile input the candidate stopped working: a fence message was not shown.',
  },
  VIO_SESSION_NO_RECONNECT: {
    category: 'behaviour',
    summary: 'The candidate did not log in again after a dropped connection.',
  },
  VIO_STANZA_NOT_ACKED: {
    category: 'behaviour',
    summary: 'A message or notification delivered to the candidate was never acked.',
  },
  VIO_SESSION_MAILBOX_ORDER: {
    category: 'behaviour',
    summary: 'Messages from the offline mailbox were shown in another order than the server delivered them.',
  },
  VIO_SESSION_MAILBOX_TWICE: {
    category: 'behaviour',
    summary: 'A message from the offline mailbox was shown or acked more than once.',
  },
  VIO_SESSION_ENLIST_FAILURE_IGNORED: {
    category: 'behaviour',
    summary: 'The candidate went on (reported success or logged in) after its enlistment failed.',
  },
  VIO_SESSION_UNENLISTED_RETRY: {
    category: 'behaviour',
    summary: 'The candidate logged in again with an identity the server had un-enlisted (403).',
  },
  VIO_SESSION_UNENLISTED_NOT_REPORTED: {
    category: 'behaviour',
    summary: 'After a 403 login failure the candidate did not report that the user must enlist again.',
  },
  VIO_KEYS_FORGED_BUNDLE_USED: {
    category: 'crypto',
    summary: 'The candidate encrypted to a bundle whose prekey signature does not verify.',
  },
  VIO_KEYS_NO_KYBER_PREKEY: {
    category: 'crypto',
    summary: 'A signal-pqxdh key upload lacks one signed last-resort Kyber prekey, or carries more.',
  },
  VIO_KEYS_KYBER_FALLBACK_FAILED: {
    category: 'crypto',
    summary: 'The candidate could not start a session with a last-resort Kyber prekey used before.',
  },
  VIO_ROBUST_OVERSIZE_BUFFERED: {
    category: 'behaviour',
    summary: 'The candidate did not refuse a frame announced over the size limit; it waited to buffer it.',
  },

  // Harness errors: never the candidate's fault; they invalidate a certification run.
  HRN_ERR_INTERNAL: { category: 'harness', summary: 'An unexpected error inside the harness (a bug).' },
  HRN_ERR_USAGE: { category: 'harness', summary: 'The command was called with invalid arguments.' },
  HRN_ERR_IO: { category: 'harness', summary: 'A file could not be read or written.' },
  HRN_ERR_SCHEMA_COMPILE: {
    category: 'harness',
    summary: 'A schema of the harness itself failed to compile.',
  },
  HRN_ERR_INVALID_NODE: {
    category: 'harness',
    summary: 'The harness built a stanza node that cannot be serialized (a harness bug).',
  },
  HRN_ERR_CRYPTO: {
    category: 'harness',
    summary: 'A cryptographic library failed in a way no input explains (a harness or library bug).',
  },
  HRN_ERR_CATALOGUE_INVALID: { category: 'harness', summary: 'The requirement catalogue is invalid.' },
  HRN_ERR_REPORT_INVALID: {
    category: 'harness',
    summary: 'A report file (results line, summary) does not match its schema in schemas/report/.',
  },

  // Waivers and shard merge (harness/report): the files given on the command line were refused,
  // so these end the command as a usage error (exit 2).
  HRN_ERR_WAIVER_INVALID: {
    category: 'harness',
    summary: 'The waiver file cannot be read, is not YAML or JSON, or breaks the waiver schema.',
  },
  HRN_ERR_WAIVER_EXPIRED: { category: 'harness', summary: 'A waiver is past its expiry date.' },
  HRN_ERR_WAIVER_UNKNOWN_ID: {
    category: 'harness',
    summary: 'A waiver names a scenario, requirement or code the harness does not know.',
  },
  HRN_ERR_WAIVER_MUST: {
    category: 'harness',
    summary: 'A waiver covers a MUST requirement in a certification run.',
  },
  HRN_ERR_MERGE_INPUT: {
    category: 'harness',
    summary: 'A shard directory to merge is missing a file or holds an invalid one.',
  },
  HRN_ERR_MERGE_MISMATCH: {
    category: 'harness',
    summary: 'The shards to merge come from different runs (version, seed, candidate, faults or filter).',
  },
  HRN_ERR_MERGE_SHARDS: {
    category: 'harness',
    summary: 'The shards to merge are duplicated, missing or out of range, or a run appears twice.',
  },
  HRN_ERR_SIGNING_KEY: {
    category: 'harness',
    summary: 'The report signing key could not be read, created, or is not an Ed25519 private key.',
  },

  // Driver contract (harness/driver): the candidate's driver broke the control API, so the run
  // cannot tell what the candidate did. Each message names the endpoint (`POST /v1/send`).
  HRN_ERR_DRIVER_UNREACHABLE: {
    category: 'harness',
    summary: 'The driver could not be reached: connection refused, reset or closed before an answer.',
  },
  HRN_ERR_DRIVER_TIMEOUT: {
    category: 'harness',
    summary: 'The driver did not answer a call completely within its time limit.',
  },
  HRN_ERR_DRIVER_HTTP_STATUS: {
    category: 'harness',
    summary: 'The driver answered a non-2xx status without a well-formed error body.',
  },
  HRN_ERR_DRIVER_BAD_JSON: { category: 'harness', summary: 'The driver answered a body that is not JSON.' },
  HRN_ERR_DRIVER_BAD_RESPONSE: {
    category: 'harness',
    summary: "The driver's answer breaks its schema or the contract's rules (event sequence numbers).",
  },
  HRN_ERR_DRIVER_TOO_LARGE: {
    category: 'harness',
    summary: "The driver's answer is larger than the body limit; the harness stopped reading it.",
  },
  HRN_ERR_DRIVER_CONTRACT_VERSION: {
    category: 'harness',
    summary: 'The manifest names a driver contract version other than the one this harness speaks.',
  },
  HRN_ERR_DRIVER_ERROR: {
    category: 'harness',
    summary: 'The driver answered a call with a well-formed error: it could not do what was asked.',
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
export type ViolationCode = Extract<Code, `VIO_${string}`>;
export type HarnessErrorCode = Extract<Code, `HRN_ERR_${string}`>;

export function isCode(s: string): s is Code {
  return Object.hasOwn(CODES, s);
}

/** A harness error that carries its stable code. */
export class HarnessError extends Error {
  readonly code: HarnessErrorCode;
  constructor(code: HarnessErrorCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}
