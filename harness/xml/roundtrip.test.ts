// Property tests of the codec: canonical serialization round-trips byte for byte, and no
// mutation of a valid stanza makes the parser do anything but accept or give a coded rejection.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODES, HarnessError } from '../codes.ts';
import type { StanzaNode } from './node.ts';
import { el } from './node.ts';
import { FORBIDDEN_CHAR, parseStanza } from './parse.ts';
import { escapeAttribute, serializeStanza } from './serialize.ts';

const SEED = 20261124;

const nameArb = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,11}$/)
  .filter((n) => !['__proto__', 'constructor', 'prototype'].includes(n));
// Any XML character, including the ones that must be escaped and astral ones.
const attrValueArb = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !FORBIDDEN_CHAR.test(s));
const attrsArb = fc.dictionary(nameArb, attrValueArb, { maxKeys: 6 });
const bytesArb = fc.uint8Array({ minLength: 1, maxLength: 64 });

const nodeArb: fc.Arbitrary<StanzaNode> = fc.letrec<{ node: StanzaNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ tag: nameArb, attrs: attrsArb }),
    fc.record({ tag: nameArb, attrs: attrsArb, content: bytesArb }),
    fc.record({
      tag: nameArb,
      attrs: attrsArb,
      content: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).node;

describe('canonical serialization', () => {
  it('round-trips random valid nodes byte for byte', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        const text = serializeStanza(node);
        const parsed = parseStanza(text);
        if (!parsed.ok) throw new Error(`${parsed.violation.code}: ${parsed.violation.message}\n${text}`);
        expect(serializeStanza(parsed.node)).toBe(text);
        expect(normalise(parsed.node)).toEqual(normalise(node));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('sorts attributes and escapes one way', () => {
    const text = serializeStanza(el('presence', { type: 'available', name: 'A&B "x" <y>\n' }));
    expect(text).toBe('<presence name="A&amp;B &quot;x&quot; &lt;y&gt;&#10;" type="available"/>');
    expect(escapeAttribute('\t\r')).toBe('&#9;&#13;');
  });

  it('writes bytes as padded base64 and empty content as a self-closing tag', () => {
    expect(serializeStanza(el('id', {}, Uint8Array.from([1, 2, 3, 4])))).toBe('<id>AQIDBA==</id>');
    expect(serializeStanza(el('count', {}, []))).toBe('<count/>');
  });

  it('refuses to serialize a node with an invalid name, with a harness code', () => {
    expect(() => serializeStanza(el('__proto__'))).toThrow(HarnessError);
    expect(() => serializeStanza(el('a', { 'b c': 'x' }))).toThrow(/HRN_ERR_INVALID_NODE/);
  });
});

describe('hostile mutations', () => {
  const sample =
    '<iq id="7" to="s.whatsapp.net" type="set" xmlns="encrypt"><registration>AAAwOQ==</registration>' +
    '<type>BQ==</type><list><key><id>AAAB</id><value>' +
    'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=</value></key></list></iq>';
  const alphabet = [
    '<',
    '>',
    '/',
    '"',
    "'",
    '&',
    ';',
    '=',
    '!',
    '?',
    '-',
    '[',
    ']',
    ' ',
    '\u0000',
    '\uD800',
    'é',
    'a',
    ':',
  ];

  it('never throws: every mutation is accepted or rejected with a known code', () => {
    const mutation = fc.record({
      at: fc.nat({ max: sample.length }),
      cut: fc.nat({ max: 8 }),
      insert: fc.array(fc.constantFrom(...alphabet), { maxLength: 6 }).map((a) => a.join('')),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
        let s = sample;
        for (const m of muts) s = s.slice(0, m.at) + m.insert + s.slice(m.at + m.cut);
        const r = parseStanza(s);
        if (!r.ok) {
          expect(Object.hasOwn(CODES, r.violation.code)).toBe(true);
          expect(r.violation.message.length).toBeGreaterThan(0);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = parseStanza(bytes);
        expect(r.ok || Object.hasOwn(CODES, r.violation.code)).toBe(true);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

/** Structural equality that treats empty children like no content, as the text form does. */
function normalise(n: StanzaNode): unknown {
  const c = n.content;
  const attrs = Object.fromEntries(Object.entries(n.attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (c === undefined) return { tag: n.tag, attrs };
  if (c instanceof Uint8Array) return { tag: n.tag, attrs, bytes: Buffer.from(c).toString('hex') };
  return c.length === 0 ? { tag: n.tag, attrs } : { tag: n.tag, attrs, children: c.map(normalise) };
}
