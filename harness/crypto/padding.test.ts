// Tests of plaintext padding: every N round-trips, every corruption of the padding is rejected,
// and the plaintext pipeline keeps padding and content failures apart.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../codes.ts';
import { encodeContent } from './content.ts';
import { decodePlaintext, encodePlaintext, MAX_PADDING, MIN_PADDING, pad, unpad } from './padding.ts';

const SEED = 20260612;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const nArb = fc.integer({ min: MIN_PADDING, max: MAX_PADDING });
const messageArb = fc.uint8Array({ minLength: 1, maxLength: 64 });

function unpadded(b: Uint8Array): Uint8Array {
  const r = unpad(b);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('pad', () => {
  it('appends N bytes of value N', () => {
    expect(hex(pad(bytes('0a026869'), 3))).toBe('0a026869030303');
    expect(hex(pad(bytes('aa'), 1))).toBe('aa01');
    expect(hex(pad(bytes('aa'), 16))).toBe(`aa${'10'.repeat(16)}`);
  });

  it('draws N from 1..16 when none is given', () => {
    const drawn = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = pad(bytes('aa'));
      const n = p.length - 1;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(16);
      expect(p.subarray(1).every((b) => b === n)).toBe(true);
      drawn.add(n);
    }
    // 200 draws all giving one value has probability 16^-199.
    expect(drawn.size).toBeGreaterThan(1);
  });

  it('refuses an N outside 1..16', () => {
    for (const n of [0, 17, -1, 1.5, Number.NaN]) expect(() => pad(bytes('aa'), n)).toThrow(HarnessError);
  });

  it('does not change its input', () => {
    const input = bytes('0102');
    pad(input, 4);
    expect(hex(input)).toBe('0102');
  });
});

describe('unpad', () => {
  it('round-trips every N from 1 to 16', () => {
    fc.assert(
      fc.property(messageArb, nArb, (message, n) => {
        const padded = pad(message, n);
        expect(padded).toHaveLength(message.length + n);
        expect(hex(unpadded(padded))).toBe(hex(message));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('rejects any change to a padding byte before the last', () => {
    fc.assert(
      fc.property(
        messageArb,
        fc.integer({ min: 2, max: MAX_PADDING }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (message, n, at, delta) => {
          const padded = pad(message, n);
          const i = message.length + (at % (n - 1));
          padded[i] = ((padded[i] as number) + delta) & 0xff;
          const r = unpad(padded);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.code).toBe('VIO_CONTENT_BAD_PADDING');
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('never gives back the message after a change to the last byte', () => {
    // The last byte is N itself: changed to a smaller M it can still end in valid padding
    // (N = 2, `02 02` -> `02 01`), so the guarantee is that the original never comes out.
    fc.assert(
      fc.property(messageArb, nArb, fc.integer({ min: 1, max: 255 }), (message, n, delta) => {
        const padded = pad(message, n);
        const last = padded.length - 1;
        padded[last] = ((padded[last] as number) + delta) & 0xff;
        const r = unpad(padded);
        if (r.ok) expect(r.value.length).not.toBe(message.length);
        else expect(r.code).toBe('VIO_CONTENT_BAD_PADDING');
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('rejects padding cut short', () => {
    fc.assert(
      fc.property(messageArb, fc.integer({ min: 2, max: MAX_PADDING }), fc.nat(), (message, n, cut) => {
        // The message ends in a byte that cannot pass for padding, so a cut is never hidden.
        const padded = pad(Uint8Array.of(...message, 0xaa), n);
        const dropped = 1 + (cut % (n - 1));
        const r = unpad(padded.subarray(0, padded.length - dropped));
        expect(r.ok).toBe(false);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('returns a copy', () => {
    const input = bytes('aa 02 02');
    const value = unpadded(input);
    input[0] = 0;
    expect(hex(value)).toBe('aa');
  });

  const rejections: readonly [string, string, RegExp][] = [
    ['empty input', '', /empty/],
    ['a last byte of 0', 'aa 00', /last byte is 0/],
    ['a last byte of 17', `aa ${'11'.repeat(17)}`, /last byte is 17/],
    ['a last byte of 255', 'aa ff', /last byte is 255/],
    ['fewer bytes than N', '03 03', /cannot hold 3 bytes/],
    ['exactly N bytes: padding and no message (PROFILE.md §7.3: N < length)', '02 02', /cannot hold 2 bytes/],
    ['one byte of padding alone', '01', /cannot hold 1 bytes/],
    ['a padding byte other than N', 'aa 02 03 03', /padding byte 1 is 2, not 3/],
    ['the first of 16 padding bytes off by one', `aa 0f ${'10'.repeat(15)}`, /padding byte 1 is 15, not 16/],
  ];
  for (const [name, input, message] of rejections) {
    it(`rejects ${name}`, () => {
      const r = unpad(bytes(input));
      expect(r).toEqual({
        ok: false,
        code: 'VIO_CONTENT_BAD_PADDING',
        message: expect.stringMatching(message),
      });
    });
  }

  const accepted: readonly [string, string, string][] = [
    ['N = 1', 'aa 01', 'aa'],
    ['N = 16 after one byte', `aa ${'10'.repeat(16)}`, 'aa'],
    ['a message ending in bytes equal to N', '02 02 02 02', '02 02'],
  ];
  for (const [name, input, value] of accepted) {
    it(`accepts ${name}`, () => expect(hex(unpadded(bytes(input)))).toBe(hex(bytes(value))));
  }

  it('treats padding of empty bytes as invalid, as the profile does', () => {
    expect(unpad(pad(new Uint8Array(), 5)).ok).toBe(false);
  });
});

describe('plaintext', () => {
  it('follows the example of PROFILE.md §7.3: a 13-byte protobuf with N = 3 is sent as 16 bytes', () => {
    const content = { type: 'text', text: 'hello world' } as const;
    expect(encodeContent(content)).toHaveLength(13);
    const plaintext = encodePlaintext(content, 3);
    expect(plaintext).toHaveLength(16);
    expect(hex(plaintext.subarray(13))).toBe('030303');
    expect(decodePlaintext(plaintext)).toEqual({ ok: true, content });
  });

  it('round-trips content with a random N', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        const content = { type: 'text', text } as const;
        expect(decodePlaintext(encodePlaintext(content))).toEqual({ ok: true, content });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('gives each failure its own code', () => {
    const valid = encodeContent({ type: 'text', text: 'hi' });
    expect(decodePlaintext(valid.subarray(0, 3))).toMatchObject({
      ok: false,
      code: 'VIO_CONTENT_BAD_PADDING',
    });
    expect(decodePlaintext(pad(bytes('0a 05 6869'), 2))).toMatchObject({
      ok: false,
      code: 'VIO_CONTENT_INVALID_PROTOBUF',
    });
    // messageContextInfo = 35 alone: valid protobuf, no content field.
    expect(decodePlaintext(pad(bytes('9a02 00'), 4))).toMatchObject({ ok: false, code: 'VIO_CONTENT_EMPTY' });
  });

  it('never throws on any bytes', () => {
    const codes = new Set(['VIO_CONTENT_BAD_PADDING', 'VIO_CONTENT_INVALID_PROTOBUF', 'VIO_CONTENT_EMPTY']);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        const r = decodePlaintext(input);
        if (!r.ok) expect(codes.has(r.code)).toBe(true);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});
