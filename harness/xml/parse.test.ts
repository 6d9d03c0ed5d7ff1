import { describe, expect, it } from 'vitest';
import type { ViolationCode } from '../codes.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { bytesOf, child, childrenOf } from './node.ts';
import { parseStanza } from './parse.ts';

function codeOf(input: string | Uint8Array): ViolationCode | 'ok' {
  const r = parseStanza(input);
  return r.ok ? 'ok' : r.violation.code;
}

const MSG =
  '<message id="3EB0C4F7A1D2E3F4A5B6C7" to="491701234567@s.whatsapp.net" type="text">' +
  '<enc v="2" type="pkmsg">MwgBEiEF</enc></message>';

describe('parseStanza: accepted stanzas', () => {
  it('parses attributes, children and base64 bytes', () => {
    const r = parseStanza(MSG);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.node.tag).toBe('message');
    expect(r.node.attrs).toEqual({
      id: '3EB0C4F7A1D2E3F4A5B6C7',
      to: '491701234567@s.whatsapp.net',
      type: 'text',
    });
    const enc = child(r.node, 'enc');
    expect(enc?.attrs).toEqual({ v: '2', type: 'pkmsg' });
    expect(Buffer.from(bytesOf(enc) ?? []).toString('hex')).toBe('330801122105');
  });

  it('accepts bytes input, whitespace between elements and keeps child order', () => {
    const r = parseStanza(Buffer.from('  <list>\n  <key id="b"/>\n  <key id="a"/>\n</list>\n'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(childrenOf(r.node).map((c) => c.attrs.id)).toEqual(['b', 'a']);
  });

  it('decodes the five predefined entities and character references in attributes', () => {
    const r = parseStanza('<presence name="A&amp;B &lt;&gt; &quot;&apos; &#65;&#x42;&#x1F600;"/>');
    expect(r.ok && r.node.attrs.name).toBe('A&B <> "\' AB\u{1F600}');
  });

  it('treats an empty element and one with only whitespace as having no content', () => {
    const a = parseStanza('<ping/>');
    const b = parseStanza('<ping>  </ping>');
    expect(a.ok && a.node.content).toBeUndefined();
    expect(b.ok && b.node.content).toBeUndefined();
  });

  it('accepts exactly the limits', () => {
    const deep = `${'<a>'.repeat(DEFAULT_LIMITS.maxDepth - 1)}<a/>${'</a>'.repeat(DEFAULT_LIMITS.maxDepth - 1)}`;
    expect(codeOf(deep)).toBe('ok');
    const attrs = Array.from({ length: DEFAULT_LIMITS.maxAttributes }, (_, i) => ` a${i}="x"`).join('');
    expect(codeOf(`<a${attrs}/>`)).toBe('ok');
    expect(codeOf(`<a b="${'x'.repeat(DEFAULT_LIMITS.maxAttributeLength)}"/>`)).toBe('ok');
    const many = `<a>${'<b/>'.repeat(DEFAULT_LIMITS.maxElements - 1)}</a>`;
    expect(codeOf(many)).toBe('ok');
  });
});

describe('parseStanza: each rejection has its code', () => {
  const cases: [string, string | Uint8Array, ViolationCode][] = [
    ['empty frame', '', 'VIO_XML_EMPTY'],
    ['whitespace only', ' \n ', 'VIO_XML_EMPTY'],
    [
      'invalid UTF-8',
      Uint8Array.from([0x3c, 0x61, 0x20, 0x62, 0x3d, 0x22, 0xc3, 0x28, 0x22, 0x2f, 0x3e]),
      'VIO_XML_INVALID_UTF8',
    ],
    ['control character', '<a b="\u0001"/>', 'VIO_XML_INVALID_CHAR'],
    ['lone surrogate', '<a b="\uD800"/>', 'VIO_XML_INVALID_CHAR'],
    ['byte-order mark', '\uFEFF<a/>', 'VIO_XML_INVALID_CHAR'],
    ['DOCTYPE', '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'VIO_XML_DOCTYPE'],
    ['lower-case doctype', '<!doctype a><a/>', 'VIO_XML_DOCTYPE'],
    ['XML declaration', '<?xml version="1.0"?><a/>', 'VIO_XML_PI'],
    ['processing instruction inside', '<a><?php x?></a>', 'VIO_XML_PI'],
    ['comment', '<a><!-- hi --></a>', 'VIO_XML_COMMENT'],
    ['CDATA', '<a><![CDATA[x]]></a>', 'VIO_XML_CDATA'],
    ['unknown entity', '<a b="&foo;"/>', 'VIO_XML_ENTITY'],
    ['entity without semicolon', '<a b="&amp"/>', 'VIO_XML_ENTITY'],
    ['NUL reference', '<a b="&#0;"/>', 'VIO_XML_ENTITY'],
    ['out-of-range reference', '<a b="&#x110000;"/>', 'VIO_XML_ENTITY'],
    ['too deep', `${'<a>'.repeat(33)}${'</a>'.repeat(33)}`, 'VIO_XML_TOO_DEEP'],
    ['too deep, self-closing leaf', `${'<a>'.repeat(32)}<b/>${'</a>'.repeat(32)}`, 'VIO_XML_TOO_DEEP'],
    ['too many elements', `<a>${'<b/>'.repeat(10_000)}</a>`, 'VIO_XML_TOO_MANY_NODES'],
    ['two roots', '<a/><b/>', 'VIO_XML_MULTIPLE_ROOTS'],
    ['text after root', '<a/>x', 'VIO_XML_MALFORMED'],
    ['text before root', 'x<a/>', 'VIO_XML_MALFORMED'],
    ['unclosed', '<a><b></b>', 'VIO_XML_MALFORMED'],
    ['mismatched', '<a><b></a></b>', 'VIO_XML_MALFORMED'],
    ['stray closing tag', '</a>', 'VIO_XML_MALFORMED'],
    ['boolean attribute', '<a b/>', 'VIO_XML_MALFORMED'],
    ['unquoted attribute', '<a b=c/>', 'VIO_XML_MALFORMED'],
    ['attributes run together', '<a b="1"c="2"/>', 'VIO_XML_MALFORMED'],
    ['< in attribute', '<a b="<"/>', 'VIO_XML_MALFORMED'],
    ['duplicate attribute', '<a b="1" b="2"/>', 'VIO_XML_DUPLICATE_ATTR'],
    [
      'too many attributes',
      `<a${Array.from({ length: 65 }, (_, i) => ` a${i}="x"`).join('')}/>`,
      'VIO_XML_TOO_MANY_ATTRS',
    ],
    ['attribute too long', `<a b="${'x'.repeat(4097)}"/>`, 'VIO_XML_ATTR_TOO_LONG'],
    ['__proto__ element', '<a><__proto__/></a>', 'VIO_XML_BAD_NAME'],
    ['constructor attribute', '<a constructor="x"/>', 'VIO_XML_BAD_NAME'],
    ['prefixed name', '<stream:error/>', 'VIO_XML_BAD_NAME'],
    ['name starting with a digit', '<1a/>', 'VIO_XML_BAD_NAME'],
    ['name too long', `<${'a'.repeat(65)}/>`, 'VIO_XML_BAD_NAME'],
    ['mixed content', '<a>QUJD<b/></a>', 'VIO_XML_MIXED_CONTENT'],
    ['non-canonical base64 (trailing bits)', '<a>QUJE=</a>', 'VIO_XML_BAD_BASE64'],
    ['base64 without padding', '<a>QUI</a>', 'VIO_XML_BAD_BASE64'],
    ['base64 with whitespace', '<a> QUJD </a>', 'VIO_XML_BAD_BASE64'],
    ['text that is not base64', '<a>hello world</a>', 'VIO_XML_BAD_BASE64'],
    ['entity in text', '<a>&amp;</a>', 'VIO_XML_BAD_BASE64'],
  ];
  it.each(cases)('%s', (_name, input, code) => {
    expect(codeOf(input)).toBe(code);
  });

  it('rejects a frame over the size limit without scanning it', () => {
    const big = `<a b="${'x'.repeat(100)}"/>`;
    const r = parseStanza(big, { ...DEFAULT_LIMITS, maxBytes: 50 });
    expect(r.ok ? 'ok' : r.violation.code).toBe('VIO_XML_TOO_LARGE');
    const bytes = new Uint8Array(DEFAULT_LIMITS.maxBytes + 1).fill(0x20);
    expect(codeOf(bytes)).toBe('VIO_XML_TOO_LARGE');
  });

  it('counts the size limit in UTF-8 bytes, not characters', () => {
    const s = `<a b="${'é'.repeat(30)}"/>`; // 30 characters, 60 bytes of value
    const limits = { ...DEFAULT_LIMITS, maxBytes: 60 };
    expect(parseStanza(s, limits).ok).toBe(false);
    expect(parseStanza(s, { ...limits, maxBytes: 80 }).ok).toBe(true);
  });

  it('gives a readable message and an offset', () => {
    const r = parseStanza('<a><b c="1" c="2"/></a>');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.violation.message).toContain('"c" appears twice');
    expect(r.violation.offset).toBe(12);
  });
});
