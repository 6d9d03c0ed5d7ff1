import { describe, expect, it } from 'vitest';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import { checkFrame } from './check.ts';
import { classify, STANZA_KINDS } from './kinds.ts';
import { stanzaRegistry, validateStanza } from './validate.ts';
import { stanzaPointer } from './view.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const SIG = Buffer.alloc(64, 9).toString('base64');
const ID = '3EB0C4F7A1D2E3F4A5B6C7';
const ALICE = '491701234567@s.whatsapp.net';

function node(xml: string): StanzaNode {
  const r = parseStanza(xml);
  if (!r.ok) throw new Error(r.violation.message);
  return r.node;
}

const codes = (xml: string, direction?: 'c2s' | 's2c') =>
  validateStanza(node(xml), direction ? { direction } : {}).map((v) => `${v.code} ${v.pointer}`);

describe('stanza registry', () => {
  it('has a schema for every kind, each with at least one direction', () => {
    const reg = stanzaRegistry();
    for (const kind of STANZA_KINDS) {
      const entry = reg.get(kind);
      expect(entry?.c2s ?? entry?.s2c, kind).toBeTypeOf('function');
    }
  });
});

describe('validateStanza', () => {
  it('accepts a message a client sends and the same message as the server delivers it', () => {
    expect(
      codes(`<message id="${ID}" to="${ALICE}" type="text"><enc v="2" type="pkmsg">MwgB</enc></message>`),
    ).toEqual([]);
    expect(
      codes(
        `<message from="${ALICE}" id="${ID}" t="1718000000" type="text"><enc v="2" type="msg">MwgB</enc></message>`,
      ),
    ).toEqual([]);
  });

  it('names each problem with its code and a stanza path', () => {
    expect(
      codes(`<message id="3eb0" to="${ALICE}" type="text"><enc v="2" type="pkmsg">MwgB</enc></message>`),
    ).toEqual(['VIO_SCHEMA_BAD_ID /message@id']);
    expect(
      codes(`<message id="${ID}" to="${ALICE}" type="text" x="1"><enc v="2" type="msg">MwgB</enc></message>`),
    ).toEqual(['VIO_SCHEMA_UNEXPECTED_ATTR /message@x']);
    expect(codes(`<message id="${ID}" to="${ALICE}" type="text"/>`)).toEqual([
      'VIO_SCHEMA_MISSING_CHILD /message',
    ]);
    expect(codes(`<message id="${ID}" to="${ALICE}" type="text"><enc v="2" type="msg"/></message>`)).toEqual([
      'VIO_SCHEMA_MISSING_CONTENT /message/enc',
    ]);
    expect(
      codes(`<message id="${ID}" to="${ALICE}" type="chat"><enc v="2" type="msg">MwgB</enc></message>`),
    ).toEqual(['VIO_SCHEMA_BAD_ATTR_VALUE /message@type']);
  });

  it('checks exact byte lengths of keys and signatures', () => {
    const skey = (sig: string) =>
      `<iq id="r1" xmlns="encrypt" type="set" to="s.whatsapp.net"><rotate><skey><id>AAAB</id><value>${KEY}</value><signature>${sig}</signature></skey></rotate></iq>`;
    expect(codes(skey(SIG))).toEqual([]);
    expect(codes(skey(KEY))).toEqual(['VIO_SCHEMA_BAD_LENGTH /iq/rotate/skey/signature#bytes']);
  });

  it('reports an unknown kind once, without schema noise', () => {
    const v = validateStanza(node('<presence-probe/>'));
    expect(v).toHaveLength(1);
    expect(v[0]?.code).toBe('VIO_STANZA_UNKNOWN_KIND');
    expect(codes('<receipt id="1" to="x" type="sender"/>')).toEqual(['VIO_STANZA_UNKNOWN_KIND /receipt']);
  });

  it('uses the direction it is given, and refuses a kind that never travels that way', () => {
    const n = `<notification from="s.whatsapp.net" type="encrypt" id="n1" t="1718000000"><count value="4"/></notification>`;
    expect(codes(n)).toEqual([]);
    expect(codes(n, 'c2s')).toEqual(['VIO_STANZA_WRONG_DIRECTION /notification']);
    // A client that sends a message with `from` is checked as a client stanza when the server says so.
    const spoof = `<message from="${ALICE}" id="${ID}" t="1718000000" type="text"><enc v="2" type="msg">MwgB</enc></message>`;
    expect(codes(spoof)).toEqual([]);
    expect(codes(spoof, 'c2s')).toContain('VIO_SCHEMA_UNEXPECTED_ATTR /message@from');
  });
});

describe('validateStanza: where and what', () => {
  const rotate = (skey: string) =>
    `<iq id="r1" xmlns="encrypt" type="set" to="s.whatsapp.net"><rotate><skey>${skey}</skey></rotate></iq>`;
  const ping = (child: string) => `<iq id="p1" to="s.whatsapp.net" type="get" xmlns="w:p">${child}</iq>`;
  const text = (enc: string, extra = '') =>
    `<message id="${ID}" to="${ALICE}" type="text">${enc}${extra}</message>`;

  it.each([
    [
      'a missing attribute',
      `<message to="${ALICE}" type="text"><enc v="2" type="msg">MwgB</enc></message>`,
      'VIO_SCHEMA_MISSING_ATTR /message@id',
    ],
    [
      'a missing child among others',
      rotate(`<id>AAAB</id><value>${KEY}</value>`),
      'VIO_SCHEMA_MISSING_CHILD /iq/rotate/skey/signature',
    ],
    [
      'an unexpected child among others',
      text('<enc v="2" type="msg">MwgB</enc>', '<foo/>'),
      'VIO_SCHEMA_UNEXPECTED_CHILD /message/foo',
    ],
    ['bytes where none belong', ping('<ping>AAAA</ping>'), 'VIO_SCHEMA_UNEXPECTED_CONTENT /iq/ping'],
    ['children where none belong', ping('<ping><x/></ping>'), 'VIO_SCHEMA_UNEXPECTED_CHILD /iq/ping'],
    [
      'an attribute the stanza type rules out',
      text('<enc v="2" type="msg" mediatype="image">MwgB</enc>'),
      'VIO_SCHEMA_UNEXPECTED_ATTR /message/enc@mediatype',
    ],
    [
      'one child too many',
      text('<enc v="2" type="msg">MwgB</enc>', '<enc v="2" type="msg">MwgB</enc>'),
      'VIO_SCHEMA_CHILD_COUNT /message/enc',
    ],
    [
      'bytes missing',
      `<message id="${ID}" to="${ALICE}" type="text"><enc v="2" type="msg"/></message>`,
      'VIO_SCHEMA_MISSING_CONTENT /message/enc',
    ],
    [
      'children missing',
      `<message id="${ID}" to="${ALICE}" type="text"/>`,
      'VIO_SCHEMA_MISSING_CHILD /message',
    ],
    [
      'an unexpected attribute',
      `<message id="${ID}" to="${ALICE}" type="text" x="1"><enc v="2" type="msg">MwgB</enc></message>`,
      'VIO_SCHEMA_UNEXPECTED_ATTR /message@x',
    ],
    [
      'a ciphertext over the size limit',
      text(`<enc v="2" type="msg">${Buffer.alloc(70_000, 1).toString('base64')}</enc>`),
      'VIO_SCHEMA_TOO_LARGE /message/enc#bytes',
    ],
    [
      'two kinds of chat state at once',
      `<chatstate to="${ALICE}"><composing/><paused/></chatstate>`,
      'VIO_SCHEMA_CHILD_COUNT /chatstate',
    ],
  ])('%s', (_what, xml, expected) => {
    const v = validateStanza(node(xml));
    expect(v.map((x) => `${x.code} ${x.pointer}`)).toEqual([expected]);
    // Whatever the keyword, the violation carries the kind and says what is wrong.
    expect(v[0]?.kind).not.toBe('unknown');
    expect(v[0]?.message).not.toBe('');
  });

  it('points at the n-th child of a tag, past the ninth too', () => {
    const item = (jid: string) => `<item jid="${jid}" action="block"/>`;
    const items = [...Array.from({ length: 11 }, () => item(ALICE)), item('not-a-jid')].join('');
    expect(codes(`<iq id="b1" xmlns="blocklist" type="set" to="s.whatsapp.net">${items}</iq>`)).toEqual([
      'VIO_SCHEMA_BAD_JID /iq/item[11]@jid',
    ]);
  });

  it('a count says which bound was crossed and what it is', () => {
    const [v] = validateStanza(
      node(text('<enc v="2" type="msg">MwgB</enc>', '<enc v="2" type="msg">MwgB</enc>')),
    );
    expect(v?.message).toMatch(/at most 1\b/);
    expect(v?.message).toContain('<enc>');
    const [w] = validateStanza(node(`<chatstate to="${ALICE}"><composing/><paused/></chatstate>`));
    expect(w?.message).toMatch(/at most 1\b/);
  });

  it('a value outside a fixed set names the values that are allowed', () => {
    const [e] = validateStanza(node(`<presence type="busy"/>`));
    expect(e?.message).toContain('available');
    expect(e?.message).toContain('unavailable');
    const [c] = validateStanza(node(text('<enc v="3" type="msg">MwgB</enc>')));
    expect(c?.code).toBe('VIO_SCHEMA_BAD_ATTR_VALUE');
    expect(c?.message).toMatch(/\b2\b/);
  });

  it('an unknown kind is reported with the reason, as kind unknown', () => {
    const [v] = validateStanza(node('<presence-probe/>'));
    expect(v).toMatchObject({ code: 'VIO_STANZA_UNKNOWN_KIND', kind: 'unknown', pointer: '/presence-probe' });
    expect(v?.message).toContain('presence-probe');
  });

  it('a wrong direction says which way the kind never travels', () => {
    const n = `<notification from="s.whatsapp.net" type="encrypt" id="n1" t="1718000000"><count value="4"/></notification>`;
    const [toServer] = validateStanza(node(n), { direction: 'c2s' });
    expect(toServer?.kind).toBe('notification.count');
    expect(toServer?.message).toMatch(/client/);
    expect(toServer?.message).not.toMatch(/server/);
    const [fromServer] = validateStanza(node('<login jid="1-2@interop" token="a.b.c"/>'), {
      direction: 's2c',
    });
    expect(fromServer?.code).toBe('VIO_STANZA_WRONG_DIRECTION');
    expect(fromServer?.message).toMatch(/server/);
    expect(fromServer?.message).not.toMatch(/client/);
  });
});

describe('stanzaPointer', () => {
  it.each([
    ['', '/iq'],
    ['/attrs/id', '/iq@id'],
    ['/children/list/0/children/key/3/attrs/id', '/iq/list/key[3]@id'],
    ['/children/list/0/children/key/12/children/value/0/bytes', '/iq/list/key[12]/value#bytes'],
    // An error about a whole group of children (too many <key>) names the tag without an index.
    ['/children/list/0/children/key', '/iq/list/key'],
    ['/children/list/0/children', '/iq/list'],
    ['/children/list/0/attrs', '/iq/list'],
    // Names that are also segment words stay names.
    ['/children/enc/0/attrs/bytes', '/iq/enc@bytes'],
    ['/children/bytes/0/attrs/children', '/iq/bytes@children'],
    // JSON Pointer escapes of names built in code rather than parsed.
    ['/attrs/a~1b~0c', '/iq@a/b~c'],
    ['/children/x~1y/1', '/iq/x/y[1]'],
    // Parts of the view that are not part of the stanza's shape add nothing.
    ['/tag', '/iq'],
  ])('%j is %s', (path, pointer) => {
    expect(stanzaPointer('iq', path)).toBe(pointer);
  });
});

describe('classify', () => {
  it.each([
    ['<ack class="message" id="1" t="1"/>', 'ack', 's2c'],
    ['<ack class="message" id="1" to="s.whatsapp.net"/>', 'ack', 'c2s'],
    ['<receipt id="1" to="x" type="read"/>', 'receipt.read', 'c2s'],
    ['<iq id="1" xmlns="encrypt" type="get" to="s.whatsapp.net"><count/></iq>', 'iq.encrypt.count', 'c2s'],
    ['<iq id="1" xmlns="blocklist" type="get" to="s.whatsapp.net"/>', 'iq.blocklist.get', 'c2s'],
    ['<iq id="1" type="result" from="s.whatsapp.net"/>', 'iq.result', 's2c'],
    ['<ib><offline count="0"/></ib>', 'ib.offline', 's2c'],
  ])('%s is %s (%s)', (xml, kind, direction) => {
    expect(classify(node(xml))).toEqual({ ok: true, kind, direction });
  });
});

describe('classify: what is not in the profile', () => {
  it.each([
    // Each reason names what was not recognised, so the report says what to fix.
    ['<receipt id="1" to="x" type="sender"/>', 'sender'],
    [
      '<notification from="s.whatsapp.net" type="devices" id="n1"><count value="1"/></notification>',
      'devices',
    ],
    ['<notification from="s.whatsapp.net" type="encrypt" id="n1"><devices/></notification>', 'count'],
    ['<iq id="1" xmlns="encrypt" type="get" to="s.whatsapp.net"><bogus/></iq>', 'bogus'],
    ['<iq id="1" xmlns="w:stats" type="get" to="s.whatsapp.net"/>', 'w:stats'],
    ['<ib><dirty/></ib>', 'offline'],
    ['<presence-probe/>', 'presence-probe'],
  ])('%s', (xml, named) => {
    const c = classify(node(xml));
    expect(c.ok).toBe(false);
    expect(!c.ok && c.reason).toContain(named);
  });

  it('a notification or iq without the attribute that decides its kind is not classified', () => {
    // Hostile frames: missing attributes and children must give a reason, not a crash.
    for (const xml of [
      '<notification from="s.whatsapp.net" id="n1"><count value="1"/></notification>',
      '<iq id="1" type="get" to="s.whatsapp.net"><ping/></iq>',
      '<iq id="1" xmlns="encrypt" type="get" to="s.whatsapp.net"/>',
      '<iq id="1" xmlns="encrypt" type="get" to="s.whatsapp.net">AAAA</iq>',
    ]) {
      const c = classify(node(xml));
      expect(c.ok, xml).toBe(false);
      expect(!c.ok && c.reason, xml).not.toContain('undefined');
    }
  });

  it('an encrypt notification is classified by its child, whatever else it holds', () => {
    const n = (child: string) =>
      `<notification from="s.whatsapp.net" type="encrypt" id="n1">${child}</notification>`;
    expect(classify(node(n('<identity/>')))).toMatchObject({ ok: true, kind: 'notification.identity' });
    expect(classify(node(n('<x/><count value="1"/>')))).toMatchObject({
      ok: true,
      kind: 'notification.count',
    });
  });
});

describe('checkFrame', () => {
  it('returns the canonical text with violations, or only the codec violation', () => {
    const r = checkFrame('<iq type="get" to="s.whatsapp.net" id="p1" xmlns="w:p"><ping/></iq>');
    expect(r.canonical).toBe('<iq id="p1" to="s.whatsapp.net" type="get" xmlns="w:p"><ping/></iq>');
    expect(r.violations).toEqual([]);
    const bad = checkFrame('<iq><iq>');
    expect(bad.node).toBeUndefined();
    expect(bad.violations.map((v) => v.code)).toEqual(['VIO_XML_MALFORMED']);
  });

  it('places a codec violation by its byte offset, when the codec knows it', () => {
    const at = (input: string | Uint8Array) =>
      checkFrame(input).violations.map((v) => [v.code, v.pointer, v.kind]);
    expect(at('<iq><iq>')).toEqual([['VIO_XML_MALFORMED', '@offset 8', 'unknown']]);
    expect(at('<a b="1" b="2"/>')).toEqual([['VIO_XML_DUPLICATE_ATTR', '@offset 9', 'unknown']]);
    expect(at('text')).toEqual([['VIO_XML_MALFORMED', '@offset 0', 'unknown']]);
    expect(at(new Uint8Array([0x3c, 0x61, 0xff, 0x2f, 0x3e]))).toEqual([
      ['VIO_XML_INVALID_UTF8', '', 'unknown'],
    ]);
  });

  it('gives an unclassified stanza no kind and no direction, even when told the direction', () => {
    const r = checkFrame('<presence-probe/>', { direction: 'c2s' });
    expect(r.canonical).toBe('<presence-probe/>');
    expect(r.node?.tag).toBe('presence-probe');
    expect(r.kind).toBeUndefined();
    expect(r.direction).toBeUndefined();
    expect(r.violations.map((v) => v.code)).toEqual(['VIO_STANZA_UNKNOWN_KIND']);
  });

  it('takes the direction it is told over the one the stanza suggests', () => {
    const delivered = `<message from="${ALICE}" id="${ID}" t="1718000000" type="text"><enc v="2" type="msg">MwgB</enc></message>`;
    expect(checkFrame(delivered)).toMatchObject({ kind: 'message', direction: 's2c', violations: [] });
    const spoof = checkFrame(delivered, { direction: 'c2s' });
    expect(spoof).toMatchObject({ kind: 'message', direction: 'c2s' });
    expect(spoof.violations.map((v) => `${v.code} ${v.pointer}`)).toContain(
      'VIO_SCHEMA_UNEXPECTED_ATTR /message@from',
    );
  });
});
