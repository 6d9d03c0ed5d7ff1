// Altered copies of real ciphertexts, for scenarios that test how a receiver treats tampering
// (and for the profiles' own tests): one field changed, added or removed, everything else,
// including fields this module does not know and the MAC, byte for byte as it was.

import protobuf from 'protobufjs/light.js';
import { MAC_LENGTH, PreKeySignalMessageProto, SignalMessageProto } from './inspect.ts';
import type { Ciphertext } from './profile.ts';

/** A new value for a field: a uint32, bytes as they go on the wire, or null to remove it. */
export type FieldEdit = number | Uint8Array | null;

export type SignalMessageField = 'ratchetKey' | 'counter' | 'previousCounter' | 'ciphertext';
export type PreKeyMessageField =
  | 'registrationId'
  | 'preKeyId'
  | 'signedPreKeyId'
  | 'kyberPreKeyId'
  | 'kyberCiphertext'
  | 'baseKey'
  | 'identityKey'
  | 'message';

interface RawField {
  readonly no: number;
  readonly wire: number;
  /** The encoded value, without its tag. */
  readonly value: Uint8Array;
}

function readFields(proto: Uint8Array): RawField[] {
  const r = protobuf.Reader.create(proto);
  const out: RawField[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    const start = r.pos;
    r.skipType(tag & 7);
    out.push({ no: tag >>> 3, wire: tag & 7, value: proto.subarray(start, r.pos) });
  }
  return out;
}

function encode(no: number, edit: number | Uint8Array): RawField {
  if (typeof edit === 'number') {
    return { no, wire: 0, value: protobuf.Writer.create().uint32(edit).finish() };
  }
  return { no, wire: 2, value: protobuf.Writer.create().bytes(edit).finish() };
}

function writeFields(fields: readonly RawField[]): Uint8Array {
  const parts = fields.flatMap((f) => [
    protobuf.Writer.create()
      .uint32((f.no << 3) | f.wire)
      .finish(),
    f.value,
  ]);
  return Buffer.concat(parts);
}

function edit(
  proto: Uint8Array,
  ids: Record<string, number>,
  edits: Record<string, FieldEdit | undefined>,
): Uint8Array {
  let fields = readFields(proto);
  for (const [name, change] of Object.entries(edits)) {
    if (change === undefined) continue;
    const no = ids[name];
    if (no === undefined) throw new Error(`unknown field ${name}`);
    if (change === null) {
      fields = fields.filter((f) => f.no !== no);
      continue;
    }
    const replacement = encode(no, change);
    const at = fields.findIndex((f) => f.no === no);
    if (at < 0) fields.push(replacement);
    else
      fields = fields.map((f, i) => (i === at ? replacement : f)).filter((f, i) => i === at || f.no !== no);
  }
  return writeFields(fields);
}

function fieldIds(type: protobuf.Type): Record<string, number> {
  return Object.fromEntries(Object.values(type.fields).map((f) => [f.name, f.id]));
}

const SIGNAL_IDS = fieldIds(SignalMessageProto);
const PREKEY_IDS = fieldIds(PreKeySignalMessageProto);

/** A `msg` (or the bytes of a pkmsg's inner message) with fields changed; version byte and MAC kept. */
export function editSignalMessage(
  bytes: Uint8Array,
  edits: Partial<Record<SignalMessageField, FieldEdit>>,
): Uint8Array {
  const proto = bytes.subarray(1, bytes.length - MAC_LENGTH);
  const body = edit(proto, SIGNAL_IDS, edits);
  return Buffer.concat([bytes.subarray(0, 1), body, bytes.subarray(bytes.length - MAC_LENGTH)]);
}

/** A pkmsg with fields of the outer message changed; the version byte kept. */
export function editPreKeyMessage(
  bytes: Uint8Array,
  edits: Partial<Record<PreKeyMessageField, FieldEdit>>,
): Uint8Array {
  return Buffer.concat([bytes.subarray(0, 1), edit(bytes.subarray(1), PREKEY_IDS, edits)]);
}

/** A pkmsg whose inner message has fields changed. */
export function editInnerMessage(
  bytes: Uint8Array,
  edits: Partial<Record<SignalMessageField, FieldEdit>>,
): Uint8Array {
  const inner = readFields(bytes.subarray(1)).find((f) => f.no === PREKEY_IDS.message);
  if (inner === undefined) throw new Error('the pkmsg has no inner message');
  const r = protobuf.Reader.create(inner.value);
  return editPreKeyMessage(bytes, { message: editSignalMessage(r.bytes(), edits) });
}

export function withVersionByte(c: Ciphertext, byte: number): Ciphertext {
  const bytes = Uint8Array.from(c.bytes);
  bytes[0] = byte;
  return { type: c.type, bytes };
}

export function flipBit(c: Ciphertext, bit: number): Ciphertext {
  const bytes = Uint8Array.from(c.bytes);
  const i = bit >> 3;
  if (i >= bytes.length) throw new Error(`bit ${bit} is past the end`);
  bytes[i] = (bytes[i] as number) ^ (1 << (bit & 7));
  return { type: c.type, bytes };
}

export function truncated(c: Ciphertext, length: number): Ciphertext {
  return { type: c.type, bytes: c.bytes.slice(0, length) };
}
