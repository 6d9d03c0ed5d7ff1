import { describe, expect, it } from 'vitest';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import { checkFrame } from './check.ts';
import { classify, STANZA_KINDS } from './kinds.ts';
import { stanzaRegistry, validateStanza } from './validate.ts';

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

describe('checkFrame', () => {
  it('returns the canonical text with violations, or only the codec violation', () => {
    const r = checkFrame('<iq type="get" to="s.whatsapp.net" id="p1" xmlns="w:p"><ping/></iq>');
    expect(r.canonical).toBe('<iq id="p1" to="s.whatsapp.net" type="get" xmlns="w:p"><ping/></iq>');
    expect(r.violations).toEqual([]);
    const bad = checkFrame('<iq><iq>');
    expect(bad.node).toBeUndefined();
    expect(bad.violations.map((v) => v.code)).toEqual(['VIO_XML_MALFORMED']);
  });
});
