// Message content (docs/PROFILE.md §7, docs/CONTENT.md): the protobuf inside every <enc> once it
// is decrypted and unpadded. schemas/proto/message.proto is the schema; this module is the one
// place that reads or writes it, and turns it into `MessageContent`, the typed union the rest of
// the harness works with.
//
// Decoding is stricter than protobufjs, because what protobufjs quietly tolerates is exactly what
// another receiver may read differently, and a harness must not accept content it cannot pin down:
// - A wire check runs first (checkWire). protobufjs skips a known field sent with the wrong wire
//   type as if it were unknown, and turns invalid UTF-8 into U+FFFD; both are rejected here, as
//   are truncated input, malformed unknown fields and nesting deeper than MAX_NESTING.
// - Values must fit their declared type: a uint32 above 2^32-1 is rejected, not truncated; a
//   uint64 or int64 must be a safe JavaScript integer.
// - Each content type must carry what it is useless without (a media message its key, hashes,
//   length and path; a reaction its key and timestamp). A missing one is
//   VIO_CONTENT_INVALID_PROTOBUF, never a half-filled content.
// Repeated occurrences of a field follow protobuf's rules (the last scalar wins, messages
// merge), which protobufjs implements. A Message with none of the profile's content fields is
// valid protobuf but VIO_CONTENT_EMPTY.

import { fileURLToPath } from 'node:url';
import type { Field, Root, Type } from 'protobufjs';
import protobuf from 'protobufjs';
import type { ViolationCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';

const PROTO_FILE = fileURLToPath(new URL('../../schemas/proto/message.proto', import.meta.url));
const MESSAGE_TYPE = 'interop.e2e.Message';

/** Bytes of a mediaKey (PROFILE.md §8.1) and of the SHA-256 hashes of a media message. */
export const MEDIA_KEY_BYTES = 32;
export const SHA256_BYTES = 32;
/**
 * Deepest nesting of messages (and groups) the decoder reads. Each level of quoting nests three
 * (extendedTextMessage, contextInfo, quotedMessage), so ten levels fit; the limit only stops a
 * hostile chain from costing time. protobufjs's own limit (100) is never reached.
 */
export const MAX_NESTING = 32;
/** ProtocolMessage.Type.REVOKE: delete for everyone. */
export const PROTOCOL_REVOKE = 0;

// ---------------------------------------------------------------------------------------------
// The protobuf subset, field for field (schemas/proto/message.proto). encodeRawMessage takes it,
// so tests and scenarios can build messages the content union cannot express (a missing
// mediaKey, two content fields) to see how a candidate handles them.

export interface ProtoMessageKey {
  readonly remoteJid?: string;
  readonly fromMe?: boolean;
  readonly id?: string;
}

export interface ProtoContextInfo {
  readonly stanzaId?: string;
  readonly participant?: string;
  readonly quotedMessage?: ProtoMessage;
}

export interface ProtoExtendedTextMessage {
  readonly text?: string;
  readonly contextInfo?: ProtoContextInfo;
}

/** Fields every media message has, under different field numbers per type. */
export interface ProtoMediaFields {
  readonly url?: string;
  readonly mimetype?: string;
  readonly fileSha256?: Uint8Array;
  /** uint64 on the wire. */
  readonly fileLength?: number;
  readonly mediaKey?: Uint8Array;
  readonly fileEncSha256?: Uint8Array;
  readonly directPath?: string;
  readonly contextInfo?: ProtoContextInfo;
}

export interface ProtoImageMessage extends ProtoMediaFields {
  readonly caption?: string;
  readonly height?: number;
  readonly width?: number;
  readonly jpegThumbnail?: Uint8Array;
}

export interface ProtoDocumentMessage extends ProtoMediaFields {
  readonly title?: string;
  readonly pageCount?: number;
  readonly fileName?: string;
}

export interface ProtoAudioMessage extends ProtoMediaFields {
  readonly seconds?: number;
  readonly ptt?: boolean;
}

export interface ProtoVideoMessage extends ProtoMediaFields {
  readonly seconds?: number;
  readonly caption?: string;
  readonly gifPlayback?: boolean;
  readonly height?: number;
  readonly width?: number;
}

export interface ProtoProtocolMessage {
  readonly key?: ProtoMessageKey;
  /** ProtocolMessage.Type: only PROTOCOL_REVOKE is in the subset. */
  readonly type?: number;
}

export interface ProtoReactionMessage {
  readonly key?: ProtoMessageKey;
  readonly text?: string;
  /** int64 on the wire. */
  readonly senderTimestampMs?: number;
}

export interface ProtoMessage {
  readonly conversation?: string;
  readonly imageMessage?: ProtoImageMessage;
  readonly extendedTextMessage?: ProtoExtendedTextMessage;
  readonly documentMessage?: ProtoDocumentMessage;
  readonly audioMessage?: ProtoAudioMessage;
  readonly videoMessage?: ProtoVideoMessage;
  readonly protocolMessage?: ProtoProtocolMessage;
  readonly reactionMessage?: ProtoReactionMessage;
}

// ---------------------------------------------------------------------------------------------
// The content union.

/** Where a media file is and how to check it (PROFILE.md §8). */
export interface MediaRef {
  readonly mimetype: string;
  /** SHA-256 of the plaintext file, 32 bytes. */
  readonly fileSha256: Uint8Array;
  /** SHA-256 of the uploaded blob (ciphertext and MAC), 32 bytes. */
  readonly fileEncSha256: Uint8Array;
  /** Plaintext bytes. */
  readonly fileLength: number;
  /** 32 bytes. */
  readonly mediaKey: Uint8Array;
  readonly directPath: string;
  readonly url?: string;
}

/** Plain text. Sent as `conversation`; an extendedTextMessage without a reply reads the same. */
export interface TextContent {
  readonly type: 'text';
  readonly text: string;
}

/** Text quoting another message: extendedTextMessage with contextInfo. */
export interface ReplyContent {
  readonly type: 'reply';
  readonly text: string;
  /** Message id of the quoted message (contextInfo.stanzaId). */
  readonly quotedId: string;
  /** Jid of the quoted message's author (contextInfo.participant). */
  readonly quotedParticipant?: string;
  /** The quoted copy's text, when the quoted message is text (contextInfo.quotedMessage). */
  readonly quotedText?: string;
}

export interface ImageContent {
  readonly type: 'image';
  readonly media: MediaRef;
  readonly caption?: string;
  readonly width?: number;
  readonly height?: number;
}

/** A voice note: audioMessage with ptt = true. */
export interface VoiceContent {
  readonly type: 'voice';
  readonly media: MediaRef;
  readonly seconds?: number;
}

/** An audio file: audioMessage without ptt (or ptt = false). */
export interface AudioContent {
  readonly type: 'audio';
  readonly media: MediaRef;
  readonly seconds?: number;
}

export interface VideoContent {
  readonly type: 'video';
  readonly media: MediaRef;
  readonly caption?: string;
  readonly seconds?: number;
  /** true: a gif (stanza mediatype `gif`, PROFILE.md §7.2). */
  readonly gifPlayback?: boolean;
}

export interface DocumentContent {
  readonly type: 'document';
  readonly media: MediaRef;
  readonly fileName?: string;
  readonly title?: string;
  readonly pageCount?: number;
}

/** The message a reaction or revoke points at: MessageKey {id, remoteJid, fromMe}. */
export interface MessageTarget {
  /** Message id of the target. */
  readonly targetId: string;
  /** The chat: the other party's jid. */
  readonly targetJid: string;
  /** Whether the target was written by the sender of this message. */
  readonly fromMe: boolean;
}

export interface ReactionContent extends MessageTarget {
  readonly type: 'reaction';
  /** Non-empty; the profile means one emoji but does not check it is one. */
  readonly emoji: string;
  readonly senderTimestampMs: number;
}

/** Removes the sender's reaction: reactionMessage with an empty (or absent) text. */
export interface ReactionRevokeContent extends MessageTarget {
  readonly type: 'reaction-revoke';
  readonly senderTimestampMs: number;
}

/** Delete for everyone: protocolMessage of type REVOKE. */
export interface RevokeContent extends MessageTarget {
  readonly type: 'revoke';
}

export type MessageContent =
  | TextContent
  | ReplyContent
  | ImageContent
  | VoiceContent
  | AudioContent
  | VideoContent
  | DocumentContent
  | ReactionContent
  | ReactionRevokeContent
  | RevokeContent;

export type ContentType = MessageContent['type'];

export const CONTENT_TYPES = [
  'text',
  'reply',
  'image',
  'voice',
  'audio',
  'video',
  'document',
  'reaction',
  'reaction-revoke',
  'revoke',
] as const satisfies readonly ContentType[];

export type ContentViolationCode = Extract<ViolationCode, `VIO_CONTENT_${string}`>;

export type DecodeContentResult =
  | { readonly ok: true; readonly content: MessageContent }
  | {
      readonly ok: false;
      readonly code: Exclude<ContentViolationCode, 'VIO_CONTENT_BAD_PADDING'>;
      readonly message: string;
    };

// ---------------------------------------------------------------------------------------------
// Schema.

let messageType: Type | undefined;

/** The protobufjs type of `Message`, loaded from the .proto on first use. */
export function loadMessageType(): Type {
  if (messageType !== undefined) return messageType;
  let root: Root;
  try {
    root = protobuf.loadSync(PROTO_FILE);
    root.resolveAll();
  } catch (e) {
    throw new HarnessError('HRN_ERR_IO', `cannot load the Message schema: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const type = root.lookupType(MESSAGE_TYPE);
  assertWalkable(type, new Set());
  messageType = type;
  return type;
}

// checkWire handles singular fields only; a repeated or map field added to the .proto must come
// with support for it there, not be read wrongly.
function assertWalkable(type: Type, seen: Set<Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  for (const field of type.fieldsArray) {
    if (field.repeated || field.map) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `${type.name}.${field.name}: repeated fields are not supported`,
      );
    }
    if (field.resolvedType instanceof protobuf.Type) assertWalkable(field.resolvedType, seen);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding.

/**
 * The protobuf bytes of `content` (unpadded). Plain text is sent as `conversation`, a reply as
 * extendedTextMessage; optional fields are written only when set. Throws HRN_ERR_INTERNAL for
 * content that breaks the rules decodeContent enforces: the harness never sends what it would
 * reject itself (build such messages with encodeRawMessage).
 */
export function encodeContent(content: MessageContent): Uint8Array {
  const problem = contentProblem(content);
  if (problem !== undefined) {
    throw new HarnessError('HRN_ERR_INTERNAL', `cannot encode ${content.type} content: ${problem}`);
  }
  return encodeRawMessage(toProto(content));
}

/** The protobuf bytes of a raw Message, with no profile rule applied. */
export function encodeRawMessage(message: ProtoMessage): Uint8Array {
  const type = loadMessageType();
  const error = type.verify(message);
  if (error !== null) throw new HarnessError('HRN_ERR_INTERNAL', `not a Message: ${error}`);
  const bytes = type.encode(type.fromObject(message)).finish();
  return new Uint8Array(bytes);
}

function toProto(c: MessageContent): ProtoMessage {
  switch (c.type) {
    case 'text':
      return { conversation: c.text };
    case 'reply':
      return {
        extendedTextMessage: {
          text: c.text,
          contextInfo: {
            stanzaId: c.quotedId,
            participant: c.quotedParticipant,
            quotedMessage: c.quotedText === undefined ? undefined : { conversation: c.quotedText },
          },
        },
      };
    case 'image':
      return {
        imageMessage: { ...mediaToProto(c.media), caption: c.caption, width: c.width, height: c.height },
      };
    case 'voice':
      return { audioMessage: { ...mediaToProto(c.media), seconds: c.seconds, ptt: true } };
    case 'audio':
      return { audioMessage: { ...mediaToProto(c.media), seconds: c.seconds } };
    case 'video':
      return {
        videoMessage: {
          ...mediaToProto(c.media),
          caption: c.caption,
          seconds: c.seconds,
          gifPlayback: c.gifPlayback,
        },
      };
    case 'document':
      return {
        documentMessage: {
          ...mediaToProto(c.media),
          fileName: c.fileName,
          title: c.title,
          pageCount: c.pageCount,
        },
      };
    case 'reaction':
      return {
        reactionMessage: { key: keyToProto(c), text: c.emoji, senderTimestampMs: c.senderTimestampMs },
      };
    case 'reaction-revoke':
      // An explicit empty text; PROFILE.md §7.2 reads an absent one the same way.
      return { reactionMessage: { key: keyToProto(c), text: '', senderTimestampMs: c.senderTimestampMs } };
    case 'revoke':
      return { protocolMessage: { key: keyToProto(c), type: PROTOCOL_REVOKE } };
  }
}

function mediaToProto(m: MediaRef): ProtoMediaFields {
  return {
    url: m.url,
    mimetype: m.mimetype,
    fileSha256: m.fileSha256,
    fileLength: m.fileLength,
    mediaKey: m.mediaKey,
    fileEncSha256: m.fileEncSha256,
    directPath: m.directPath,
  };
}

// fromMe is always written, false included, so the key names its target without defaults.
function keyToProto(t: MessageTarget): ProtoMessageKey {
  return { remoteJid: t.targetJid, fromMe: t.fromMe, id: t.targetId };
}

// ---------------------------------------------------------------------------------------------
// Decoding.

class ContentError extends Error {
  constructor(
    readonly code: Exclude<ContentViolationCode, 'VIO_CONTENT_BAD_PADDING'>,
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ContentError('VIO_CONTENT_INVALID_PROTOBUF', message);

/**
 * Reads unpadded plaintext as one Message of the profile. Never throws for anything the bytes
 * hold: invalid protobuf, a missing required field or a broken value is
 * VIO_CONTENT_INVALID_PROTOBUF; a Message without a content field of the profile is
 * VIO_CONTENT_EMPTY. Bytes of the result are fresh copies.
 */
export function decodeContent(bytes: Uint8Array): DecodeContentResult {
  const type = loadMessageType();
  try {
    const closedEnums = new Map<string, number>();
    checkWire(bytes, type, closedEnums);
    let raw: ProtoMessage;
    try {
      // longs as numbers: a value past 2^53 becomes an unsafe number, which contentProblem rejects.
      raw = type.toObject(type.decode(bytes), { longs: Number, enums: Number }) as ProtoMessage;
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_INTERNAL',
        `protobufjs rejected bytes the wire check accepted: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const content = fromProto(raw, closedEnums);
    const problem = contentProblem(content);
    if (problem !== undefined) throw invalid(problem);
    return { ok: true, content };
  } catch (e) {
    if (e instanceof ContentError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

const CONTENT_FIELDS = [
  'conversation',
  'imageMessage',
  'extendedTextMessage',
  'documentMessage',
  'audioMessage',
  'videoMessage',
  'protocolMessage',
  'reactionMessage',
] as const satisfies readonly (keyof ProtoMessage)[];

function fromProto(m: ProtoMessage, closedEnums: ReadonlyMap<string, number>): MessageContent {
  const present = CONTENT_FIELDS.filter((f) => m[f] !== undefined);
  if (present.length > 1) {
    throw invalid(
      `the Message carries ${present.length} content fields (${present.join(', ')}); one is allowed`,
    );
  }
  if (m.conversation !== undefined) return { type: 'text', text: m.conversation };
  if (m.extendedTextMessage !== undefined) return extendedTextFromProto(m.extendedTextMessage);
  if (m.imageMessage !== undefined) {
    const p = m.imageMessage;
    return withOptional<ImageContent>(
      { type: 'image', media: mediaFromProto(p, 'imageMessage') },
      { caption: p.caption, width: p.width, height: p.height },
    );
  }
  if (m.audioMessage !== undefined) {
    const p = m.audioMessage;
    const media = mediaFromProto(p, 'audioMessage');
    return p.ptt === true
      ? withOptional<VoiceContent>({ type: 'voice', media }, { seconds: p.seconds })
      : withOptional<AudioContent>({ type: 'audio', media }, { seconds: p.seconds });
  }
  if (m.videoMessage !== undefined) {
    const p = m.videoMessage;
    return withOptional<VideoContent>(
      { type: 'video', media: mediaFromProto(p, 'videoMessage') },
      { caption: p.caption, seconds: p.seconds, gifPlayback: p.gifPlayback },
    );
  }
  if (m.documentMessage !== undefined) {
    const p = m.documentMessage;
    return withOptional<DocumentContent>(
      { type: 'document', media: mediaFromProto(p, 'documentMessage') },
      { fileName: p.fileName, title: p.title, pageCount: p.pageCount },
    );
  }
  if (m.protocolMessage !== undefined) {
    const p = m.protocolMessage;
    if (p.type === undefined) {
      // proto2 closes enums: a type outside the subset arrives as an unknown field, and a reader
      // that fell back on the default would take it for REVOKE. Tell the two cases apart.
      const unknownType = closedEnums.get('Message.protocolMessage.type');
      if (unknownType !== undefined) {
        throw new ContentError(
          'VIO_CONTENT_EMPTY',
          `protocolMessage type ${unknownType} is not in the profile`,
        );
      }
      throw invalid('protocolMessage.type is missing (REVOKE must be explicit)');
    }
    return { type: 'revoke', ...targetFromProto(p.key, 'protocolMessage.key') };
  }
  if (m.reactionMessage !== undefined) {
    const p = m.reactionMessage;
    const target = targetFromProto(p.key, 'reactionMessage.key');
    if (p.senderTimestampMs === undefined) throw invalid('reactionMessage.senderTimestampMs is missing');
    const senderTimestampMs = p.senderTimestampMs;
    return p.text === undefined || p.text === ''
      ? { type: 'reaction-revoke', ...target, senderTimestampMs }
      : { type: 'reaction', ...target, emoji: p.text, senderTimestampMs };
  }
  throw new ContentError(
    'VIO_CONTENT_EMPTY',
    'the Message carries none of the content fields of the profile',
  );
}

function extendedTextFromProto(p: ProtoExtendedTextMessage): TextContent | ReplyContent {
  if (p.text === undefined) throw invalid('extendedTextMessage.text is missing');
  const ctx = p.contextInfo;
  // contextInfo without any reply field (forwarding, mentions: outside the subset) is plain text.
  if (
    ctx === undefined ||
    (ctx.stanzaId === undefined && ctx.participant === undefined && ctx.quotedMessage === undefined)
  ) {
    return { type: 'text', text: p.text };
  }
  if (ctx.stanzaId === undefined) {
    throw invalid('extendedTextMessage.contextInfo quotes a message but has no stanzaId');
  }
  const quoted = ctx.quotedMessage;
  return withOptional<ReplyContent>(
    { type: 'reply', text: p.text, quotedId: ctx.stanzaId },
    {
      quotedParticipant: ctx.participant,
      // The quoted copy may be trimmed and is not held to the rules of content (PROFILE.md §7.2):
      // only its text is read.
      quotedText: quoted?.conversation ?? quoted?.extendedTextMessage?.text,
    },
  );
}

function mediaFromProto(p: ProtoMediaFields, path: string): MediaRef {
  const need = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw invalid(`${path}.${name} is missing`);
    return value;
  };
  const media: MediaRef = {
    mimetype: need(p.mimetype, 'mimetype'),
    fileSha256: copy(need(p.fileSha256, 'fileSha256')),
    fileEncSha256: copy(need(p.fileEncSha256, 'fileEncSha256')),
    fileLength: need(p.fileLength, 'fileLength'),
    mediaKey: copy(need(p.mediaKey, 'mediaKey')),
    directPath: need(p.directPath, 'directPath'),
  };
  return p.url === undefined ? media : { ...media, url: p.url };
}

function targetFromProto(key: ProtoMessageKey | undefined, path: string): MessageTarget {
  if (key === undefined) throw invalid(`${path} is missing`);
  if (key.id === undefined) throw invalid(`${path}.id is missing`);
  if (key.remoteJid === undefined) throw invalid(`${path}.remoteJid is missing`);
  // An absent fromMe reads as false, proto2's default for a bool.
  return { targetId: key.id, targetJid: key.remoteJid, fromMe: key.fromMe ?? false };
}

/** `base` with the defined entries of `optional`: absent fields stay absent, not undefined. */
function withOptional<T extends object>(
  base: T,
  optional: { readonly [K in keyof T]?: T[K] | undefined },
): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) out[k] = v;
  return out as T;
}

function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

// ---------------------------------------------------------------------------------------------
// The wire check: walks the bytes against the schema before protobufjs sees them.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

// The wire type each scalar type travels as (protobuf encoding guide).
const SCALAR_WIRE: Readonly<Record<string, number>> = {
  double: WIRE_I64,
  float: WIRE_I32,
  int32: WIRE_VARINT,
  int64: WIRE_VARINT,
  uint32: WIRE_VARINT,
  uint64: WIRE_VARINT,
  sint32: WIRE_VARINT,
  sint64: WIRE_VARINT,
  fixed32: WIRE_I32,
  fixed64: WIRE_I64,
  sfixed32: WIRE_I32,
  sfixed64: WIRE_I64,
  bool: WIRE_VARINT,
  string: WIRE_LEN,
  bytes: WIRE_LEN,
};

const MAX_FIELD_NUMBER = 2 ** 29 - 1;
const UINT32_MAX = 0xffffffffn;
const INT32_MAX = 0x7fffffffn;
const TWO_64 = 1n << 64n;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Walk {
  readonly buf: Uint8Array;
  /** Values of closed-enum fields outside their enum, by path (protobufjs drops them). */
  readonly closedEnums: Map<string, number>;
}

/** Throws ContentError (INVALID_PROTOBUF) at the first flaw. */
function checkWire(buf: Uint8Array, type: Type, closedEnums: Map<string, number>): void {
  walkMessage({ buf, closedEnums }, 0, buf.length, type, 1, type.name);
}

function walkMessage(w: Walk, start: number, end: number, type: Type, depth: number, path: string): void {
  if (depth > MAX_NESTING) throw invalid(`${path}: messages nested deeper than ${MAX_NESTING}`);
  let pos = start;
  while (pos < end) {
    const at = pos;
    const tag = readTag(w.buf, pos, end, path);
    pos = tag.next;
    if (tag.wireType === WIRE_EGROUP)
      throw invalid(`${path}: end-group ${tag.field} without a start (byte ${at})`);
    const field = type.fieldsById[tag.field];
    if (field === undefined) {
      pos = skipField(w.buf, pos, end, tag.field, tag.wireType, depth, path);
      continue;
    }
    pos = walkField(w, pos, end, field, tag.wireType, at, depth, `${path}.${field.name}`);
  }
}

function walkField(
  w: Walk,
  pos: number,
  end: number,
  field: Field,
  wireType: number,
  at: number,
  depth: number,
  path: string,
): number {
  const resolved = field.resolvedType;
  const expected =
    resolved instanceof protobuf.Type ? WIRE_LEN : resolved ? WIRE_VARINT : SCALAR_WIRE[field.type];
  if (expected === undefined)
    throw new HarnessError('HRN_ERR_INTERNAL', `${path}: unknown field type ${field.type}`);
  if (wireType !== expected) {
    throw invalid(`${path}: wire type ${wireType} where the schema has ${expected} (byte ${at})`);
  }
  switch (wireType) {
    case WIRE_VARINT: {
      const { value, next } = readVarint(w.buf, pos, end, path);
      const type = resolved ? 'enum' : field.type;
      if (type === 'uint32' && value > UINT32_MAX) throw invalid(`${path}: ${value} does not fit a uint32`);
      if (type === 'int32' || type === 'enum') {
        if (value > INT32_MAX && value < TWO_64 - (INT32_MAX + 1n))
          throw invalid(`${path}: ${value} does not fit an int32`);
        const n = Number(BigInt.asIntN(32, value));
        if (resolved instanceof protobuf.Enum && resolved.valuesById[n] === undefined)
          w.closedEnums.set(path, n);
      }
      return next;
    }
    case WIRE_LEN: {
      const { start, stop } = readLength(w.buf, pos, end, path);
      if (resolved instanceof protobuf.Type) walkMessage(w, start, stop, resolved, depth + 1, path);
      else if (field.type === 'string') {
        try {
          utf8.decode(w.buf.subarray(start, stop));
        } catch {
          throw invalid(`${path}: not valid UTF-8 (byte ${start})`);
        }
      }
      return stop;
    }
    default:
      return skipField(w.buf, pos, end, 0, wireType, depth, path);
  }
}

/** Skips one field's value; `fieldNumber` is needed only to match a group's end. */
function skipField(
  buf: Uint8Array,
  pos: number,
  end: number,
  fieldNumber: number,
  wireType: number,
  depth: number,
  path: string,
): number {
  switch (wireType) {
    case WIRE_VARINT:
      return readVarint(buf, pos, end, path).next;
    case WIRE_I64:
      return need(pos, 8, end, path);
    case WIRE_LEN:
      return readLength(buf, pos, end, path).stop;
    case WIRE_I32:
      return need(pos, 4, end, path);
    case WIRE_SGROUP:
      return skipGroup(buf, pos, end, fieldNumber, depth + 1, path);
    default:
      throw invalid(`${path}: wire type ${wireType} does not exist (byte ${pos})`);
  }
}

// Groups are deprecated and outside the subset, but a well-formed one is a valid unknown field.
function skipGroup(
  buf: Uint8Array,
  pos: number,
  end: number,
  fieldNumber: number,
  depth: number,
  path: string,
): number {
  if (depth > MAX_NESTING) throw invalid(`${path}: groups nested deeper than ${MAX_NESTING}`);
  while (pos < end) {
    const at = pos;
    const tag = readTag(buf, pos, end, path);
    if (tag.wireType === WIRE_EGROUP) {
      if (tag.field !== fieldNumber)
        throw invalid(`${path}: group ${fieldNumber} closed as ${tag.field} (byte ${at})`);
      return tag.next;
    }
    pos = skipField(buf, tag.next, end, tag.field, tag.wireType, depth, path);
  }
  throw invalid(`${path}: group ${fieldNumber} is not closed`);
}

function readTag(buf: Uint8Array, pos: number, end: number, path: string) {
  const { value, next } = readVarint(buf, pos, end, path);
  const field = Number(value >> 3n);
  if (value > UINT32_MAX || field === 0 || field > MAX_FIELD_NUMBER) {
    throw invalid(`${path}: field number ${value >> 3n} is out of range (byte ${pos})`);
  }
  return { field, wireType: Number(value & 7n), next };
}

function readVarint(
  buf: Uint8Array,
  pos: number,
  end: number,
  path: string,
): { value: bigint; next: number } {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) throw invalid(`${path}: truncated varint (byte ${pos})`);
    const b = buf[pos + i] as number;
    // The tenth byte holds bit 63 only.
    if (i === 9 && b > 1) throw invalid(`${path}: varint longer than 64 bits (byte ${pos})`);
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return { value, next: pos + i + 1 };
  }
  throw invalid(`${path}: varint longer than 64 bits (byte ${pos})`);
}

function readLength(
  buf: Uint8Array,
  pos: number,
  end: number,
  path: string,
): { start: number; stop: number } {
  const { value, next } = readVarint(buf, pos, end, path);
  if (value > BigInt(end - next)) {
    throw invalid(`${path}: length ${value} runs past the end (${end - next} bytes left, byte ${pos})`);
  }
  return { start: next, stop: next + Number(value) };
}

function need(pos: number, n: number, end: number, path: string): number {
  if (end - pos < n) throw invalid(`${path}: truncated ${n}-byte value (byte ${pos})`);
  return pos + n;
}

// ---------------------------------------------------------------------------------------------
// Rules on values, shared by encoding (a harness bug) and decoding (a violation).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What is wrong with `content` under the profile's rules, or undefined. Decoding applies the same
 * rules, so everything encodeContent accepts decodes back to equal content.
 */
export function contentProblem(content: MessageContent): string | undefined {
  const problems: string[] = [];
  const text = (name: string, v: string | undefined, nonEmpty = false) => {
    if (v === undefined) return;
    if (typeof v !== 'string') problems.push(`${name} is not a string`);
    else if (LONE_SURROGATE.test(v)) problems.push(`${name} has a lone surrogate (not encodable as UTF-8)`);
    else if (nonEmpty && v === '') problems.push(`${name} is empty`);
  };
  const int = (name: string, v: number | undefined, max: number) => {
    if (v === undefined) return;
    if (!Number.isSafeInteger(v) || v < 0 || v > max)
      problems.push(`${name} is ${v}, not an integer 0..${max}`);
  };
  const bytes = (name: string, v: Uint8Array, length: number) => {
    if (!(v instanceof Uint8Array)) problems.push(`${name} is not bytes`);
    else if (v.length !== length) problems.push(`${name} is ${v.length} bytes, not ${length}`);
  };
  const uint32 = 0xffffffff;
  const media = (m: MediaRef) => {
    text('mimetype', m.mimetype, true);
    bytes('fileSha256', m.fileSha256, SHA256_BYTES);
    bytes('fileEncSha256', m.fileEncSha256, SHA256_BYTES);
    if (m.fileLength === undefined) problems.push('fileLength is missing');
    int('fileLength', m.fileLength, Number.MAX_SAFE_INTEGER);
    bytes('mediaKey', m.mediaKey, MEDIA_KEY_BYTES);
    text('directPath', m.directPath, true);
    text('url', m.url);
  };
  const target = (t: MessageTarget) => {
    text('targetId', t.targetId, true);
    text('targetJid', t.targetJid, true);
    if (typeof t.fromMe !== 'boolean') problems.push('fromMe is not a boolean');
  };
  const timestamp = (v: number) => {
    if (v === undefined) problems.push('senderTimestampMs is missing');
    int('senderTimestampMs', v, Number.MAX_SAFE_INTEGER);
  };
  switch (content.type) {
    case 'text':
      text('text', content.text);
      if (content.text === undefined) problems.push('text is missing');
      break;
    case 'reply':
      text('text', content.text);
      if (content.text === undefined) problems.push('text is missing');
      text('quotedId', content.quotedId, true);
      if (content.quotedId === undefined) problems.push('quotedId is missing');
      text('quotedParticipant', content.quotedParticipant);
      text('quotedText', content.quotedText);
      break;
    case 'image':
      media(content.media);
      text('caption', content.caption);
      int('width', content.width, uint32);
      int('height', content.height, uint32);
      break;
    case 'voice':
    case 'audio':
      media(content.media);
      int('seconds', content.seconds, uint32);
      break;
    case 'video':
      media(content.media);
      text('caption', content.caption);
      int('seconds', content.seconds, uint32);
      if (content.gifPlayback !== undefined && typeof content.gifPlayback !== 'boolean') {
        problems.push('gifPlayback is not a boolean');
      }
      break;
    case 'document':
      media(content.media);
      text('fileName', content.fileName);
      text('title', content.title);
      int('pageCount', content.pageCount, uint32);
      break;
    case 'reaction':
      target(content);
      text('emoji', content.emoji, true);
      if (content.emoji === undefined) problems.push('emoji is missing');
      timestamp(content.senderTimestampMs);
      break;
    case 'reaction-revoke':
      target(content);
      timestamp(content.senderTimestampMs);
      break;
    case 'revoke':
      target(content);
      break;
    default:
      problems.push(`unknown content type ${(content as { type: unknown }).type}`);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Digest: what "the decoded content must match exactly" compares.

export interface MediaDigest {
  readonly mimetype: string;
  /** fileSha256 as lower-case hex: the file itself. */
  readonly sha256: string;
  readonly size: number;
}

/**
 * What a user is shown and what identifies a message's target; no transport detail. mediaKey,
 * fileEncSha256, directPath and url are left out (a sender draws a fresh key per upload, so the
 * same file sent twice differs in all four), and so is senderTimestampMs (a clock reading).
 */
export interface ContentDigest {
  readonly type: ContentType;
  readonly text?: string;
  readonly caption?: string;
  readonly media?: MediaDigest;
  readonly width?: number;
  readonly height?: number;
  readonly seconds?: number;
  readonly gifPlayback?: boolean;
  readonly fileName?: string;
  readonly title?: string;
  readonly pageCount?: number;
  readonly quotedId?: string;
  readonly quotedParticipant?: string;
  readonly quotedText?: string;
  readonly targetId?: string;
  readonly targetJid?: string;
  readonly fromMe?: boolean;
  readonly emoji?: string;
}

// The digest's keys in the one order they are written, so JSON.stringify of equal digests gives
// equal strings.
const DIGEST_KEYS = [
  'type',
  'text',
  'caption',
  'media',
  'width',
  'height',
  'seconds',
  'gifPlayback',
  'fileName',
  'title',
  'pageCount',
  'quotedId',
  'quotedParticipant',
  'quotedText',
  'targetId',
  'targetJid',
  'fromMe',
  'emoji',
] as const satisfies readonly (keyof ContentDigest)[];

/** A stable, JSON-able summary of `content`; absent fields are absent, never undefined. */
export function contentDigest(content: MessageContent): ContentDigest {
  const c = content as Partial<Record<keyof ContentDigest, unknown>> & { media?: MediaRef };
  const fields: Record<string, unknown> = { ...c };
  fields.media =
    c.media === undefined
      ? undefined
      : {
          mimetype: c.media.mimetype,
          sha256: Buffer.from(c.media.fileSha256).toString('hex'),
          size: c.media.fileLength,
        };
  const digest: Record<string, unknown> = {};
  for (const key of DIGEST_KEYS) if (fields[key] !== undefined) digest[key] = fields[key];
  return digest as unknown as ContentDigest;
}
