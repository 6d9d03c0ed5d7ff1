// The driver schemas: they compile, they agree with the TypeScript types of contract.ts and with
// the project's other vocabularies, their examples are valid, objects are closed where we say so,
// and problems are reported for the branch of a union the data claims to be.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CRYPTO_PROFILES, FEATURES } from '../requirements/types.ts';
import { STANZA_FORMATS } from '../schema/formats.ts';
import type {
  DriverEvent,
  DriverEventType,
  MediaFixture,
  ReceivedContent,
  RejectReason,
  SendContent,
  SendContentType,
} from './contract.ts';
import { ENDPOINTS } from './contract.ts';
import type { DriverSchemaName } from './validate.ts';
import {
  COMMON_SCHEMA,
  DRIVER_SCHEMA_DIR,
  DRIVER_SCHEMAS,
  driverRegistry,
  ENDPOINT_SCHEMAS,
  schemaId,
  validateDriver,
} from './validate.ts';

type Json = { readonly [k: string]: unknown };
const read = (file: string) => JSON.parse(readFileSync(new URL(file, DRIVER_SCHEMA_DIR), 'utf8')) as Json;
const common = read('common.schema.json');
const defs = common.$defs as Record<string, Json>;
function def(name: string): Json {
  const d = defs[name];
  if (!d) throw new Error(`common.schema.json has no $defs/${name}`);
  return d;
}
const enumOf = (name: string) => def(name).enum as unknown[];

/** Each list names every member of its union type: a member added to contract.ts fails to compile here. */
const REJECT_REASONS = [
  'duplicate',
  'tampered',
  'untrusted-identity',
  'invalid-message',
  'unsupported-version',
  'no-session',
  'missing-prekey',
  'bad-padding',
  'invalid-protobuf',
  'unsupported-content',
  'media-truncated',
  'media-enc-hash',
  'media-mac',
  'media-decrypt',
  'media-plain-hash',
  'media-length',
  'media-download',
  'other',
] as const satisfies readonly RejectReason[];
const MEDIA_FIXTURES = [
  'photo.jpg',
  'voice.ogg',
  'clip.mp4',
  'document.pdf',
  'random.bin',
] as const satisfies readonly MediaFixture[];
const ALL_REASONS: [Exclude<RejectReason, (typeof REJECT_REASONS)[number]>] extends [never] ? true : never =
  true;
const ALL_FIXTURES: [Exclude<MediaFixture, (typeof MEDIA_FIXTURES)[number]>] extends [never] ? true : never =
  true;

const ALICE = '491701234567@s.whatsapp.net';
const ID = '3EB0C4F7A1D2E3F4A5B6C7';
const PHOTO = { fixture: 'photo.jpg' } as const;

/** One of each content type, typed by contract.ts: the schema must accept every one. */
const CONTENTS: { readonly [T in SendContentType]: Extract<SendContent, { type: T }> } = {
  text: { type: 'text', text: 'Hello' },
  reply: { type: 'reply', text: 'Yes', quotedId: ID },
  image: { type: 'image', media: PHOTO, caption: 'a photo' },
  voice: { type: 'voice', media: { fixture: 'voice.ogg', mimetype: 'audio/ogg; codecs=opus' }, seconds: 3 },
  audio: { type: 'audio', media: { base64: 'AAECAw==', mimetype: 'audio/mpeg' }, seconds: 1 },
  video: { type: 'video', media: { fixture: 'clip.mp4' }, caption: 'clip', seconds: 2 },
  document: { type: 'document', media: { fixture: 'document.pdf' }, fileName: 'fixture.pdf' },
  reaction: { type: 'reaction', targetId: ID, emoji: '👍🏽' },
  'reaction-revoke': { type: 'reaction-revoke', targetId: ID },
};

const MEDIA = { sha256: 'a'.repeat(64), mimetype: 'image/jpeg', size: 9672 };
const RECEIVED: readonly ReceivedContent[] = [
  { type: 'text', text: '' },
  { type: 'reply', text: 'ok', quotedId: ID },
  { type: 'image', media: MEDIA, caption: 'c' },
  { type: 'voice', media: MEDIA, seconds: 3 },
  { type: 'document', media: MEDIA, fileName: 'f.pdf' },
  { type: 'reaction', targetId: ID, emoji: '❤️' },
  { type: 'reaction-revoke', targetId: ID },
  { type: 'revoke', targetId: ID },
];

/** One of each event type, typed by contract.ts. */
const EVENTS: { readonly [T in DriverEventType]: Extract<DriverEvent, { type: T }> } = {
  connection: { seq: 1, at: 1, type: 'connection', state: 'failed', reason: 'login refused: 401' },
  'message-received': {
    seq: 2,
    at: 2,
    type: 'message-received',
    id: ID,
    from: ALICE,
    content: { type: 'text', text: 'Hi' },
    offline: true,
  },
  // An id as the adversary put it on the wire: the driver reports it as seen, the wire checks judge it.
  'message-rejected': {
    seq: 3,
    at: 3,
    type: 'message-rejected',
    id: 'not-hex!',
    from: ALICE,
    reason: 'tampered',
  },
  'message-sent': { seq: 4, at: 4, type: 'message-sent', id: ID, to: ALICE },
  'send-failed': { seq: 5, at: 5, type: 'send-failed', id: ID, to: ALICE, reason: '403' },
  'receipt-received': { seq: 6, at: 6, type: 'receipt-received', from: ALICE, receipt: 'played', ids: [ID] },
  'security-notice': { seq: 7, at: 7, type: 'security-notice', jid: ALICE },
  typing: { seq: 8, at: 8, type: 'typing', from: ALICE, state: 'composing', media: 'audio' },
};

/** Every object schema in a node, with where it is. */
function* objects(node: unknown, where: string): Generator<[string, Json]> {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) yield* objects(n, `${where}/${i}`);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as Json;
  if (n.type === 'object') yield [where, n];
  for (const [k, v] of Object.entries(n)) if (k !== 'examples') yield* objects(v, `${where}/${k}`);
}

describe('driver schemas', () => {
  it('are exactly the files in schemas/driver, each with its $id, and compile', () => {
    const files = readdirSync(DRIVER_SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'));
    expect(files.sort()).toEqual([COMMON_SCHEMA, ...DRIVER_SCHEMAS].map((n) => `${n}.schema.json`).sort());
    for (const name of [COMMON_SCHEMA, ...DRIVER_SCHEMAS] as const) {
      const doc = read(`${name}.schema.json`);
      expect(doc.$id).toBe(schemaId(name));
      expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    }
    expect(() => driverRegistry()).not.toThrow();
  });

  it('name a schema for every endpoint, requests exactly for POSTs', () => {
    for (const [endpoint, { method }] of Object.entries(ENDPOINTS)) {
      const s = ENDPOINT_SCHEMAS[endpoint as keyof typeof ENDPOINTS];
      expect(s.request !== undefined, endpoint).toBe(method === 'POST');
    }
  });

  it('accept their own examples', () => {
    for (const name of DRIVER_SCHEMAS) {
      const examples = read(`${name}.schema.json`).examples as unknown[];
      expect(examples.length, name).toBeGreaterThan(0);
      for (const ex of examples) expect(validateDriver(name, ex), name).toEqual([]);
    }
  });

  it('share the vocabularies of contract.ts and the requirement catalogue', () => {
    expect(ALL_REASONS && ALL_FIXTURES).toBe(true);
    expect(enumOf('feature')).toEqual([...FEATURES]);
    expect(enumOf('crypto-profile')).toEqual([...CRYPTO_PROFILES]);
    expect(enumOf('reject-reason')).toEqual([...REJECT_REASONS]);
    expect(enumOf('media-fixture-name')).toEqual([...MEDIA_FIXTURES]);
    const receivedTypes = ((def('received-content').properties as Json).type as Json).enum;
    expect(receivedTypes).toEqual([...Object.keys(CONTENTS), 'revoke']);
    const tags = (union: string) =>
      (def(union).oneOf as { $ref: string }[]).map(
        (b) => ((def(b.$ref.replace('#/$defs/', '')).properties as Json).type as Json).const,
      );
    expect(tags('event')).toEqual(Object.keys(EVENTS));
    expect(tags('send-content')).toEqual(Object.keys(CONTENTS));
    for (const f of MEDIA_FIXTURES)
      expect(() => readFileSync(new URL(`../../fixtures/media/${f}`, import.meta.url))).not.toThrow();
  });

  it('accept a value of every type contract.ts defines', () => {
    for (const content of Object.values(CONTENTS)) {
      expect(validateDriver('send-request', { to: ALICE, content }), content.type).toEqual([]);
    }
    const events = Object.values(EVENTS);
    expect(validateDriver('events-response', { events, last: events.length })).toEqual([]);
    for (const content of RECEIVED) {
      const event = { seq: 1, at: 1, type: 'message-received', id: ID, from: ALICE, content };
      expect(validateDriver('events-response', { events: [event], last: 1 }), content.type).toEqual([]);
    }
  });

  it('close every object, except the error member of an error answer', () => {
    const open: string[] = [];
    for (const name of [COMMON_SCHEMA, ...DRIVER_SCHEMAS]) {
      for (const [where, node] of objects(read(`${name}.schema.json`), name)) {
        if (node.additionalProperties !== false) open.push(where);
      }
    }
    expect(open).toEqual(['error-response/properties/error']);
    expect(
      validateDriver('error-response', { error: { code: 'internal', message: 'x', trace: ['a'] } }),
    ).toEqual([]);
    expect(validateDriver('error-response', { error: { code: 'internal', message: 'x' }, more: 1 })).toEqual([
      { path: '/more', message: 'is not a member the contract defines' },
    ]);
  });

  it('check addresses and ids the harness sends as the stanza schemas do', () => {
    const jid = new RegExp(def('jid').pattern as string, 'u');
    const messageId = new RegExp(def('message-id').pattern as string, 'u');
    const addresses = [
      ALICE,
      '491701234567:3@s.whatsapp.net',
      '123456789012345@lid',
      '1-10853634039893@interop',
      '1-10853634039893:1@interop',
      '120363025246125888@g.us',
      's.whatsapp.net',
      '+491701234567@s.whatsapp.net',
      '491701234567@s.whatsapp.net/phone',
      '1-abc@interop',
      'alice@example.org',
      '',
    ];
    for (const a of addresses) expect(jid.test(a), a).toBe(STANZA_FORMATS.jid.validate(a));
    for (const id of [
      ID,
      '3eb0c4f7a1d2e3f4a5b6c7',
      '3EB0',
      'F'.repeat(64),
      'F'.repeat(65),
      '3EB0-C4F7A1D2E3F4A5B6',
    ]) {
      expect(messageId.test(id), id).toBe(STANZA_FORMATS['message-id'].validate(id));
    }
  });

  it('accept only canonical base64 for inline media', () => {
    const send = (base64: string) =>
      validateDriver('send-request', { to: ALICE, content: { type: 'image', media: { base64 } } });
    expect(send('AAECAw==')).toEqual([]);
    expect(send('AAECAw')).toHaveLength(1);
    expect(send('AAEC Aw==')).toHaveLength(1);
    expect(send('AAECAw-_')).toHaveLength(1);
  });
});

describe('validateDriver problems', () => {
  const events = (...list: unknown[]) =>
    validateDriver('events-response', { events: list, last: list.length });

  it('reports the failures of the branch the data names, not of every branch', () => {
    expect(events({ seq: 1, at: 1, type: 'send-failed', id: ID, to: ALICE })).toEqual([
      { path: '/events/0/reason', message: 'is missing' },
    ]);
    expect(events({ seq: 1, at: 1, type: 'typing', from: ALICE, state: 'typing' })).toEqual([
      { path: '/events/0/state', message: 'must be one of "composing", "paused" (got "typing")' },
    ]);
  });

  it('names the allowed types for an unknown one', () => {
    const [p] = events({ seq: 1, at: 1, type: 'presence' });
    expect(p?.path).toBe('/events/0/type');
    expect(p?.message).toMatch(
      /^must be one of connection, message-received, .*, typing \(got "presence"\)$/,
    );
  });

  it('follows nested unions and conditional members', () => {
    const bad = (content: unknown) => validateDriver('send-request', { to: ALICE, content });
    expect(bad({ type: 'voice', media: { fixture: 'voice.mp3' } })).toEqual([
      {
        path: '/content/media/fixture',
        message:
          'must be one of "photo.jpg", "voice.ogg", "clip.mp4", "document.pdf", "random.bin" (got "voice.mp3")',
      },
    ]);
    expect(bad({ type: 'image', media: { fixture: 'photo.jpg', base64: 'AAAA' } })).toEqual([
      { path: '/content/media', message: 'must have exactly one of base64, fixture' },
    ]);
    expect(bad({ type: 'text', text: 'x', quotedId: ID })).toEqual([
      { path: '/content/quotedId', message: 'is not a member the contract defines' },
    ]);
    const received = {
      seq: 1,
      at: 1,
      type: 'message-received',
      id: ID,
      from: ALICE,
      content: { type: 'reaction', targetId: ID },
    };
    expect(events(received)).toEqual([{ path: '/events/0/content/emoji', message: 'is missing' }]);
  });

  it('reports a body that is not an object at the root', () => {
    const name: DriverSchemaName = 'ok-response';
    expect(validateDriver(name, [])).toEqual([{ path: '/', message: 'must be object (got an array)' }]);
    expect(validateDriver(name, { ok: false })).toEqual([
      { path: '/ok', message: 'must be true (got false)' },
    ]);
  });
});
