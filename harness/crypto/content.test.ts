// Tests of the message content codec: known bytes pin WhatsApp's field numbers (a round trip
// alone would pass with any numbering), every content type round-trips, and every flaw in the
// bytes gets its code without an exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import type { MediaRef, MessageContent, ProtoMessage } from './content.ts';
import {
  CONTENT_TYPES,
  contentDigest,
  contentProblem,
  decodeContent,
  encodeContent,
  encodeRawMessage,
  MAX_NESTING,
} from './content.ts';

const SEED = 20260611;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** Bytes from hex written with spaces and `|` between fields. */
const bytes = (...parts: string[]) =>
  new Uint8Array(Buffer.from(parts.join('').replace(/[\s|]/g, ''), 'hex'));
/** The UTF-8 of a string as hex: payloads only; tags and lengths are written out by hand. */
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const fill = (byte: number) => new Uint8Array(32).fill(byte);
const KEY = fill(0x11);
const SHA = fill(0x22);
const ENC = fill(0x33);
const KEY_HEX = '11'.repeat(32);
const SHA_HEX = '22'.repeat(32);
const ENC_HEX = '33'.repeat(32);

function media(mimetype: string, fileLength: number, url?: string): MediaRef {
  const m: MediaRef = {
    mimetype,
    fileSha256: SHA,
    fileEncSha256: ENC,
    fileLength,
    mediaKey: KEY,
    directPath: '/d',
  };
  return url === undefined ? m : { ...m, url };
}

function decoded(b: Uint8Array): MessageContent {
  const r = decodeContent(b);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.content;
}

function rejected(b: Uint8Array): { code: string; message: string } {
  const r = decodeContent(b);
  if (r.ok) throw new Error(`accepted as ${JSON.stringify(contentDigest(r.content))}`);
  return { code: r.code, message: r.message };
}

// Each expected encoding is derived by hand from the field numbers of PROFILE.md §7.1: a tag
// byte is (field << 3) | wire type (0 varint, 2 length-delimited), multi-byte varints low group
// first. Sub-message lengths are the sums of the fields listed after them.
const KNOWN: readonly { name: string; content: MessageContent; hex: string }[] = [
  {
    name: 'text: conversation = 1',
    content: { type: 'text', text: 'hi' },
    hex: '0a 02 6869',
  },
  {
    name: 'reply: extendedTextMessage = 6 {text 1, contextInfo 17 {stanzaId 1, participant 2, quotedMessage 3}}',
    content: { type: 'reply', text: 'ok', quotedId: 'ID1', quotedParticipant: 'a@s', quotedText: 'hi' },
    // 32 = field 6; 8a 01 = field 17 (138); 0x17 = 4 + 3 + 16 bytes.
    hex: `32 17 | 0a 02 6f6b | 8a01 10 | 0a 03 494431 | 12 03 614073 | 1a 04 0a 02 6869`,
  },
  {
    name: 'image: imageMessage = 3',
    content: { type: 'image', media: media('image/jpeg', 1000, 'u'), caption: 'c', width: 640, height: 480 },
    // 85 01 = 133 bytes; fileLength 1000 = e8 07, height 480 = e0 03, width 640 = 80 05.
    hex: `1a 85 01 | 0a 01 75 | 12 0a ${utf8('image/jpeg')} | 1a 01 63 | 22 20 ${SHA_HEX} | 28 e8 07 |
      30 e0 03 | 38 80 05 | 42 20 ${KEY_HEX} | 4a 20 ${ENC_HEX} | 5a 02 2f64`,
  },
  {
    name: 'voice: audioMessage = 8 with ptt 6',
    content: { type: 'voice', media: media('audio/ogg', 100), seconds: 7 },
    hex: `42 7b | 12 09 ${utf8('audio/ogg')} | 1a 20 ${SHA_HEX} | 20 64 | 28 07 | 30 01 |
      3a 20 ${KEY_HEX} | 42 20 ${ENC_HEX} | 4a 02 2f64`,
  },
  {
    name: 'audio: audioMessage = 8 without ptt',
    content: { type: 'audio', media: media('audio/ogg', 100) },
    hex: `42 77 | 12 09 ${utf8('audio/ogg')} | 1a 20 ${SHA_HEX} | 20 64 | 3a 20 ${KEY_HEX} | 42 20 ${ENC_HEX} |
      4a 02 2f64`,
  },
  {
    name: 'video: videoMessage = 9',
    content: { type: 'video', media: media('video/mp4', 100), caption: 'v', seconds: 3, gifPlayback: true },
    // 5a = field 11, 6a = field 13.
    hex: `4a 7e | 12 09 ${utf8('video/mp4')} | 1a 20 ${SHA_HEX} | 20 64 | 28 03 | 32 20 ${KEY_HEX} | 3a 01 76 |
      40 01 | 5a 20 ${ENC_HEX} | 6a 02 2f64`,
  },
  {
    name: 'document: documentMessage = 7',
    content: {
      type: 'document',
      media: media('application/pdf', 100),
      fileName: 'f.pdf',
      title: 't',
      pageCount: 2,
    },
    // 89 01 = 137 bytes; 52 = field 10.
    hex: `3a 89 01 | 12 0f ${utf8('application/pdf')} | 1a 01 74 | 22 20 ${SHA_HEX} | 28 64 | 30 02 |
      3a 20 ${KEY_HEX} | 42 05 ${utf8('f.pdf')} | 4a 20 ${ENC_HEX} | 52 02 2f64`,
  },
  {
    name: 'reaction: reactionMessage = 46 {key 1 {remoteJid 1, fromMe 2, id 3}, text 2, senderTimestampMs 4}',
    content: {
      type: 'reaction',
      targetId: 'ID1',
      targetJid: 'a@s',
      fromMe: true,
      emoji: '👍',
      senderTimestampMs: 1718000000000,
    },
    // f2 02 = field 46 (370); 1718000000000 = 80 b8 9e 86 80 32.
    hex: `f2 02 1b | 0a 0c 0a 03 614073 10 01 1a 03 494431 | 12 04 f09f918d | 20 80 b8 9e 86 80 32`,
  },
  {
    name: 'reaction revoke: reactionMessage = 46 with text ""',
    content: {
      type: 'reaction-revoke',
      targetId: 'ID1',
      targetJid: 'a@s',
      fromMe: false,
      senderTimestampMs: 1718000000000,
    },
    hex: `f2 02 17 | 0a 0c 0a 03 614073 10 00 1a 03 494431 | 12 00 | 20 80 b8 9e 86 80 32`,
  },
  {
    name: 'revoke: protocolMessage = 12 {key 1, type 2 = REVOKE 0}',
    content: { type: 'revoke', targetId: 'ID1', targetJid: 'a@s', fromMe: false },
    hex: `62 10 | 0a 0c 0a 03 614073 10 00 1a 03 494431 | 10 00`,
  },
];

describe('known bytes', () => {
  it('cover every content type', () => {
    expect(new Set(KNOWN.map((k) => k.content.type))).toEqual(new Set(CONTENT_TYPES));
  });

  for (const k of KNOWN) {
    it(`${k.name}: encodes to the hand-derived bytes and decodes back`, () => {
      const expected = bytes(k.hex);
      expect(hex(encodeContent(k.content))).toBe(hex(expected));
      expect(decoded(expected)).toStrictEqual(k.content);
    });
  }

  it('reads an extendedTextMessage without contextInfo as text; encodeContent sends conversation', () => {
    const ext = bytes('32 04 | 0a 02 6869');
    expect(decoded(ext)).toStrictEqual({ type: 'text', text: 'hi' });
    expect(hex(encodeContent(decoded(ext)))).toBe('0a026869');
  });
});

// Any code point, astral ones included; never a lone surrogate (not UTF-8 encodable).
const textArb = fc.string({ unit: 'binary', maxLength: 40 });
const nonEmptyArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 30 });
const idArb = fc.oneof(fc.stringMatching(/^3EB0[0-9A-F]{18}$/), nonEmptyArb);
const jidArb = fc.oneof(
  fc.stringMatching(/^[1-9][0-9]{6,14}@s\.whatsapp\.net$/),
  fc.stringMatching(/^[1-9]-[1-9][0-9]{5,13}@interop$/),
  nonEmptyArb,
);
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const uint32Arb = fc.integer({ min: 0, max: 0xffffffff });
const mediaArb: fc.Arbitrary<MediaRef> = fc.record(
  {
    mimetype: fc.oneof(fc.constantFrom('image/jpeg', 'audio/ogg; codecs=opus', 'video/mp4'), nonEmptyArb),
    fileSha256: bytes32,
    fileEncSha256: bytes32,
    fileLength: fc.oneof(fc.nat(100 * 2 ** 20), fc.maxSafeNat()),
    mediaKey: bytes32,
    directPath: nonEmptyArb,
    url: textArb,
  },
  { requiredKeys: ['mimetype', 'fileSha256', 'fileEncSha256', 'fileLength', 'mediaKey', 'directPath'] },
);
const targetArb = { targetId: idArb, targetJid: jidArb, fromMe: fc.boolean() };
const timestampArb = fc.oneof(
  fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  fc.maxSafeNat(),
);
const emojiArb = fc.oneof(fc.constantFrom('👍', '❤️', '😂', '🇪🇺', '👩🏽‍💻'), nonEmptyArb);

const contentArb: fc.Arbitrary<MessageContent> = fc.oneof(
  fc.record({ type: fc.constant('text' as const), text: textArb }),
  fc.record(
    {
      type: fc.constant('reply' as const),
      text: textArb,
      quotedId: idArb,
      quotedParticipant: jidArb,
      quotedText: textArb,
    },
    { requiredKeys: ['type', 'text', 'quotedId'] },
  ),
  fc.record(
    {
      type: fc.constant('image' as const),
      media: mediaArb,
      caption: textArb,
      width: uint32Arb,
      height: uint32Arb,
    },
    { requiredKeys: ['type', 'media'] },
  ),
  fc.record(
    { type: fc.constant('voice' as const), media: mediaArb, seconds: uint32Arb },
    { requiredKeys: ['type', 'media'] },
  ),
  fc.record(
    { type: fc.constant('audio' as const), media: mediaArb, seconds: uint32Arb },
    { requiredKeys: ['type', 'media'] },
  ),
  fc.record(
    {
      type: fc.constant('video' as const),
      media: mediaArb,
      caption: textArb,
      seconds: uint32Arb,
      gifPlayback: fc.boolean(),
    },
    { requiredKeys: ['type', 'media'] },
  ),
  fc.record(
    {
      type: fc.constant('document' as const),
      media: mediaArb,
      fileName: textArb,
      title: textArb,
      pageCount: uint32Arb,
    },
    { requiredKeys: ['type', 'media'] },
  ),
  fc.record({
    type: fc.constant('reaction' as const),
    ...targetArb,
    emoji: emojiArb,
    senderTimestampMs: timestampArb,
  }),
  fc.record({ type: fc.constant('reaction-revoke' as const), ...targetArb, senderTimestampMs: timestampArb }),
  fc.record({ type: fc.constant('revoke' as const), ...targetArb }),
);

// fast-check's records have no prototype, which toStrictEqual tells apart from a literal: compare
// plain copies, bytes as hex, undefined entries kept so that a stray one still fails.
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${hex(v)}`;
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

describe('round trip', () => {
  it('decodes every content type back to equal content, and re-encodes to the same bytes', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(contentArb, (content) => {
        seen.add(content.type);
        expect(contentProblem(content)).toBeUndefined();
        const encoded = encodeContent(content);
        const back = decoded(encoded);
        expect(plain(back)).toStrictEqual(plain(content));
        expect(hex(encodeContent(back))).toBe(hex(encoded));
        expect(JSON.stringify(contentDigest(back))).toBe(JSON.stringify(contentDigest(content)));
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect([...seen].sort()).toEqual([...CONTENT_TYPES].sort());
  });

  it('returns copies: changing the input afterwards changes nothing', () => {
    const input = encodeContent({ type: 'image', media: media('image/jpeg', 1) });
    const content = decoded(input);
    input.fill(0);
    expect(content).toStrictEqual({ type: 'image', media: media('image/jpeg', 1) });
  });
});

// A valid image, as a raw message to take fields out of.
const rawImage = {
  mimetype: 'image/jpeg',
  fileSha256: SHA,
  fileLength: 1000,
  mediaKey: KEY,
  fileEncSha256: ENC,
  directPath: '/d',
};
const rawKey = { remoteJid: 'a@s', fromMe: false, id: 'ID1' };
const raw = (m: ProtoMessage) => encodeRawMessage(m);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('invalid protobuf', () => {
  const cases: readonly [string, Uint8Array, RegExp][] = [
    ['truncated tag varint', bytes('f2'), /truncated varint/],
    ['truncated length varint', bytes('0a 80'), /truncated varint/],
    // The sub-message ends inside fileLength's varint although the buffer does not.
    ['varint running past its sub-message', bytes('1a 02 28 e8 07'), /truncated varint/],
    [
      'varint longer than 64 bits (tenth byte above 1)',
      bytes('10 ffffffffffffffffff 02'),
      /longer than 64 bits/,
    ],
    ['varint of eleven bytes', bytes('10 ffffffffffffffffff 81 00'), /longer than 64 bits/],
    ['length past the end', bytes('0a 05 6869'), /runs past the end/],
    ['length past the end of its sub-message', bytes('1a 03 | 12 09 61'), /runs past the end/],
    ['truncated fixed64 (unknown field)', bytes('11 0000'), /truncated 8-byte/],
    ['truncated fixed32 (unknown field)', bytes('15 00'), /truncated 4-byte/],
    ['wire type 6', bytes('16'), /does not exist/],
    ['wire type 7', bytes('0a 02 6869 | 17'), /does not exist/],
    ['field number 0', bytes('02 00'), /field number 0/],
    ['tag above 32 bits', bytes('fa ff ff ff ff 01 00'), /out of range/],
    ['a known field with the wrong wire type: imageMessage as varint', bytes('18 00'), /wire type 0 where/],
    ['a known field with the wrong wire type: conversation as varint', bytes('08 01'), /wire type 0 where/],
    [
      'a known field with the wrong wire type: reactionMessage as fixed32',
      bytes('f5 02 00000000'),
      /wire type 5/,
    ],
    [
      'a nested field with the wrong wire type: mediaKey as varint',
      concat(raw({ imageMessage: rawImage }), bytes('1a 02 40 01')),
      /imageMessage\.mediaKey: wire type 0/,
    ],
    ['senderTimestampMs as length-delimited', bytes('f2 02 02 | 22 00'), /senderTimestampMs: wire type 2/],
    ['unclosed group', bytes('0a 02 6869 | 13 08 01'), /not closed/],
    ['end-group without a start', bytes('14'), /without a start/],
    ['group closed with another number', bytes('13 1c'), /closed as 3/],
    ['invalid UTF-8 (overlong)', bytes('0a 02 c0af'), /not valid UTF-8/],
    ['invalid UTF-8 (lone byte)', bytes('0a 01 ff'), /not valid UTF-8/],
    ['invalid UTF-8 (encoded surrogate)', bytes('0a 03 eda080'), /not valid UTF-8/],
    [
      'invalid UTF-8 inside a quoted message',
      bytes('32 0d | 0a 00 | 8a01 08 | 0a 01 41 | 1a 03 0a 01 ff'),
      /UTF-8/,
    ],
    [
      'uint32 above 2^32-1 (width, merged into a valid image)',
      concat(raw({ imageMessage: rawImage }), bytes('1a 06 | 38 8080808010')),
      /does not fit a uint32/,
    ],
    ['enum above int32', bytes('62 06 | 10 8080808010'), /does not fit an int32/],
  ];
  for (const [name, input, message] of cases) {
    it(name, () => {
      const r = rejected(input);
      expect(r.code).toBe('VIO_CONTENT_INVALID_PROTOBUF');
      expect(r.message).toMatch(message);
    });
  }

  it(`rejects messages nested deeper than ${MAX_NESTING}, and reads the nesting below it`, () => {
    // Each reply level nests three messages: extendedTextMessage, contextInfo, quotedMessage.
    const chain = (levels: number): ProtoMessage =>
      levels === 0
        ? { conversation: 'end' }
        : {
            extendedTextMessage: {
              text: `${levels}`,
              contextInfo: { stanzaId: 'ID1', quotedMessage: chain(levels - 1) },
            },
          };
    expect(decoded(raw(chain(10)))).toStrictEqual({
      type: 'reply',
      text: '10',
      quotedId: 'ID1',
      quotedText: '9',
    });
    expect(rejected(raw(chain(11))).message).toMatch(/nested deeper than 32/);
  });
});

describe('required fields and values', () => {
  const mediaFields = [
    'mimetype',
    'fileSha256',
    'fileLength',
    'mediaKey',
    'fileEncSha256',
    'directPath',
  ] as const;
  const mediaTypes = ['imageMessage', 'audioMessage', 'videoMessage', 'documentMessage'] as const;
  for (const type of mediaTypes) {
    for (const field of mediaFields) {
      it(`${type} without ${field}`, () => {
        const { [field]: _, ...rest } = rawImage;
        const r = rejected(raw({ [type]: rest }));
        expect(r).toEqual({ code: 'VIO_CONTENT_INVALID_PROTOBUF', message: `${type}.${field} is missing` });
      });
    }
  }

  const cases: readonly [string, ProtoMessage, RegExp][] = [
    [
      'a 31-byte mediaKey',
      { imageMessage: { ...rawImage, mediaKey: new Uint8Array(31) } },
      /mediaKey is 31 bytes/,
    ],
    [
      'a 33-byte fileSha256',
      { videoMessage: { ...rawImage, fileSha256: new Uint8Array(33) } },
      /fileSha256 is 33/,
    ],
    [
      'an empty fileEncSha256',
      { audioMessage: { ...rawImage, fileEncSha256: new Uint8Array() } },
      /fileEncSha256 is 0/,
    ],
    ['an empty mimetype', { documentMessage: { ...rawImage, mimetype: '' } }, /mimetype is empty/],
    ['an empty directPath', { imageMessage: { ...rawImage, directPath: '' } }, /directPath is empty/],
    ['fileLength past 2^53-1', { imageMessage: { ...rawImage, fileLength: 2 ** 53 } }, /fileLength is/],
    [
      'extendedTextMessage without text',
      { extendedTextMessage: { contextInfo: { stanzaId: 'ID1' } } },
      /text is missing/,
    ],
    [
      'a quote without stanzaId',
      { extendedTextMessage: { text: 'x', contextInfo: { participant: 'a@s' } } },
      /has no stanzaId/,
    ],
    [
      'an empty stanzaId',
      { extendedTextMessage: { text: 'x', contextInfo: { stanzaId: '' } } },
      /quotedId is empty/,
    ],
    ['a reaction without key', { reactionMessage: { text: '👍', senderTimestampMs: 1 } }, /key is missing/],
    [
      'a reaction key without id',
      { reactionMessage: { key: { remoteJid: 'a@s' }, text: '👍', senderTimestampMs: 1 } },
      /key\.id is missing/,
    ],
    [
      'a reaction key without remoteJid',
      { reactionMessage: { key: { id: 'ID1' }, text: '👍', senderTimestampMs: 1 } },
      /key\.remoteJid is missing/,
    ],
    [
      'a reaction without senderTimestampMs',
      { reactionMessage: { key: rawKey, text: '👍' } },
      /senderTimestampMs is/,
    ],
    [
      'a negative senderTimestampMs',
      { reactionMessage: { key: rawKey, text: '👍', senderTimestampMs: -1 } },
      /senderTimestampMs is -1/,
    ],
    [
      'a senderTimestampMs past 2^53-1',
      { reactionMessage: { key: rawKey, text: '👍', senderTimestampMs: 2 ** 53 } },
      /senderTimestampMs is/,
    ],
    ['a protocolMessage without type', { protocolMessage: { key: rawKey } }, /type is missing/],
    ['a revoke without key', { protocolMessage: { type: 0 } }, /protocolMessage\.key is missing/],
    [
      'two content fields',
      { conversation: 'a', reactionMessage: { key: rawKey, text: '👍' } },
      /2 content fields/,
    ],
  ];
  for (const [name, message, pattern] of cases) {
    it(name, () => {
      const r = rejected(raw(message));
      expect(r.code).toBe('VIO_CONTENT_INVALID_PROTOBUF');
      expect(r.message).toMatch(pattern);
    });
  }
});

describe('empty', () => {
  const cases: readonly [string, Uint8Array][] = [
    ['no bytes', bytes('')],
    [
      'only unknown fields (messageContextInfo = 35, senderKeyDistributionMessage = 2)',
      bytes('9a02 00 | 12 00'),
    ],
    ['a well-formed unknown group', bytes('13 08 01 14')],
    [
      'a protocolMessage of a type outside the profile (MESSAGE_EDIT = 14)',
      bytes('62 10 | 0a 0c 0a 03 614073 10 00 1a 03 494431 | 10 0e'),
    ],
  ];
  for (const [name, input] of cases) {
    it(name, () => expect(rejected(input).code).toBe('VIO_CONTENT_EMPTY'));
  }
});

describe('what protobuf allows is accepted', () => {
  it('skips unknown fields, at the top and inside known messages', () => {
    const withUnknown = concat(
      bytes('9a02 00'),
      raw({ imageMessage: rawImage }),
      bytes('1a 04 | 60 01 | 7b 7c'), // mediaKeyTimestamp = 12 and an empty group 15, merged in
    );
    expect(decoded(withUnknown)).toStrictEqual({ type: 'image', media: media('image/jpeg', 1000) });
  });

  it('takes the last of a repeated scalar and merges repeated messages', () => {
    expect(decoded(bytes('0a 01 61 | 0a 01 62'))).toStrictEqual({ type: 'text', text: 'b' });
    const { mediaKey: _, ...noKey } = rawImage;
    const split = concat(raw({ imageMessage: noKey }), raw({ imageMessage: { mediaKey: KEY } }));
    expect(decoded(split)).toStrictEqual({ type: 'image', media: media('image/jpeg', 1000) });
  });

  it('reads absent fromMe as false and absent reaction text as a revoke', () => {
    const r = decoded(
      raw({ reactionMessage: { key: { remoteJid: 'a@s', id: 'ID1' }, senderTimestampMs: 5 } }),
    );
    expect(r).toStrictEqual({
      type: 'reaction-revoke',
      targetId: 'ID1',
      targetJid: 'a@s',
      fromMe: false,
      senderTimestampMs: 5,
    });
  });

  it('reads ptt = false as audio, contextInfo without a quote as text', () => {
    expect(decoded(raw({ audioMessage: { ...rawImage, ptt: false } })).type).toBe('audio');
    expect(decoded(raw({ extendedTextMessage: { text: 'x', contextInfo: {} } }))).toStrictEqual({
      type: 'text',
      text: 'x',
    });
  });

  it('does not hold a trimmed quoted copy to the rules, and reads text out of an extended one', () => {
    const quoting = (quotedMessage: ProtoMessage) =>
      decoded(raw({ extendedTextMessage: { text: 'x', contextInfo: { stanzaId: 'ID1', quotedMessage } } }));
    expect(quoting({ imageMessage: { caption: 'no keys' } })).toStrictEqual({
      type: 'reply',
      text: 'x',
      quotedId: 'ID1',
    });
    expect(quoting({ extendedTextMessage: { text: 'q' } })).toStrictEqual({
      type: 'reply',
      text: 'x',
      quotedId: 'ID1',
      quotedText: 'q',
    });
  });
});

describe('hostile bytes', () => {
  const codes = new Set(['VIO_CONTENT_INVALID_PROTOBUF', 'VIO_CONTENT_EMPTY']);

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (input) => {
        const r = decodeContent(input);
        if (!r.ok) expect(codes.has(r.code)).toBe(true);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('never throws on mutations of valid messages (flips, truncation, insertion)', () => {
    const mutated = fc
      .tuple(contentArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert'))
      .map(([content, at, byte, how]) => {
        const b = encodeContent(content);
        const i = b.length === 0 ? 0 : at % b.length;
        if (how === 'cut') return b.subarray(0, i);
        if (how === 'insert') return concat(b.subarray(0, i), Uint8Array.of(byte), b.subarray(i));
        const c = b.slice();
        c[i] = (c[i] as number) ^ (byte || 1);
        return c;
      });
    fc.assert(
      fc.property(mutated, (input) => {
        const r = decodeContent(input);
        if (!r.ok) expect(codes.has(r.code)).toBe(true);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe('encodeContent', () => {
  const bad: readonly [string, MessageContent, RegExp][] = [
    [
      'a reaction with an empty emoji (that is a reaction-revoke)',
      { type: 'reaction', targetId: 'ID1', targetJid: 'a@s', fromMe: false, emoji: '', senderTimestampMs: 1 },
      /emoji is empty/,
    ],
    [
      'a 16-byte mediaKey',
      { type: 'image', media: { ...media('image/jpeg', 1), mediaKey: new Uint8Array(16) } },
      /mediaKey/,
    ],
    ['a lone surrogate', { type: 'text', text: 'a\uD800b' }, /lone surrogate/],
    ['a negative fileLength', { type: 'audio', media: media('audio/ogg', -1) }, /fileLength is -1/],
    ['a fractional fileLength', { type: 'audio', media: media('audio/ogg', 1.5) }, /fileLength is 1.5/],
    ['seconds past a uint32', { type: 'voice', media: media('audio/ogg', 1), seconds: 2 ** 32 }, /seconds/],
    ['an empty quotedId', { type: 'reply', text: 'x', quotedId: '' }, /quotedId is empty/],
    [
      'an empty targetId',
      { type: 'revoke', targetId: '', targetJid: 'a@s', fromMe: true },
      /targetId is empty/,
    ],
  ];
  for (const [name, content, pattern] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => encodeContent(content)).toThrow(HarnessError);
      expect(() => encodeContent(content)).toThrow(pattern);
    });
  }

  it('encodeRawMessage refuses values of the wrong type', () => {
    expect(() => encodeRawMessage({ conversation: 5 } as unknown as ProtoMessage)).toThrow(HarnessError);
  });
});

describe('contentDigest', () => {
  it('keeps what is shown and leaves out keys, paths and hashes of the blob', () => {
    const a: MessageContent = {
      type: 'image',
      media: media('image/jpeg', 10, 'https://a'),
      caption: 'c',
      width: 2,
    };
    const b: MessageContent = {
      type: 'image',
      media: { ...media('image/jpeg', 10), mediaKey: fill(9), fileEncSha256: fill(8), directPath: '/other' },
      caption: 'c',
      width: 2,
    };
    expect(JSON.stringify(contentDigest(a))).toBe(
      `{"type":"image","caption":"c","media":{"mimetype":"image/jpeg","sha256":"${SHA_HEX}","size":10},"width":2}`,
    );
    expect(contentDigest(b)).toStrictEqual(contentDigest(a));
    expect(
      contentDigest({ ...a, media: { ...media('image/jpeg', 10), fileSha256: fill(7) } }),
    ).not.toStrictEqual(contentDigest(a));
  });

  it('names a reaction by emoji and target, not by its timestamp', () => {
    const r = {
      type: 'reaction',
      targetId: 'ID1',
      targetJid: 'a@s',
      fromMe: true,
      emoji: '👍',
      senderTimestampMs: 1,
    } as const;
    expect(contentDigest(r)).toStrictEqual({
      type: 'reaction',
      targetId: 'ID1',
      targetJid: 'a@s',
      fromMe: true,
      emoji: '👍',
    });
    expect(contentDigest({ ...r, senderTimestampMs: 2 })).toStrictEqual(contentDigest(r));
    expect(contentDigest({ ...r, fromMe: false })).not.toStrictEqual(contentDigest(r));
  });

  it('writes its keys in one order, whatever order the content has them in', () => {
    const reply = { quotedText: 'q', quotedId: 'ID1', text: 'x', type: 'reply' } as const;
    expect(JSON.stringify(contentDigest(reply))).toBe(
      '{"type":"reply","text":"x","quotedId":"ID1","quotedText":"q"}',
    );
  });

  it('is plain JSON for every content', () => {
    fc.assert(
      fc.property(contentArb, (content) => {
        const d = contentDigest(content);
        expect(JSON.parse(JSON.stringify(d))).toStrictEqual(d);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
