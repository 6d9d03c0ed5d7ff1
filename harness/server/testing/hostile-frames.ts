// Hostile frames for the server's chat socket: fast-check arbitraries, seeded and reproducible,
// each frame one WebSocket message a hostile client could send (docs/HOSTILE.md).
//
// Every family is hostile by construction: each frame breaks a rule of docs/PROFILE.md §2.2,
// §3, §4, §5.2 or §9, so the server owes it a coded violation or a coded close. Mutations start
// from the valid client fixtures (fixtures/stanzas/valid) in their canonical form and change
// them in a way that cannot leave a valid stanza behind. Frames stay under 64 KiB, most under a
// few KB, except the two size families, which the weights keep to a handful per ten thousand.

import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import type { StanzaNode } from '../../xml/node.ts';
import { childrenOf, isBytes } from '../../xml/node.ts';
import { parseStanza } from '../../xml/parse.ts';
import { serializeStanza } from '../../xml/serialize.ts';

export interface HostileFrame {
  /** One WebSocket message: text as a string, or raw bytes (invalid UTF-8, binary frames). */
  readonly data: string | Buffer;
  /** Sent as a binary frame (the text profile has none). */
  readonly binary: boolean;
  /** The family that made it, e.g. `mutate.truncate` (see HOSTILE_FAMILIES). */
  readonly family: string;
}

/** The stanza limit of PROFILE.md §9.1. */
export const STANZA_LIMIT_BYTES = 1024 * 1024;
/** The transport cap of PROFILE.md §9.1: a larger message is cut by the WebSocket layer. */
export const TRANSPORT_CAP_BYTES = 2 * 1024 * 1024;

/**
 * The families and their weights (out of 1,782: each of the two size families comes out at
 * about six frames per ten thousand). `closes` marks the families whose frames close the connection
 * by rule (binary 1003, invalid UTF-8 1007, a valid `<login>` 1008, oversized 1009).
 */
export const HOSTILE_FAMILIES = {
  'mutate.truncate': { weight: 160, closes: false, breaks: 'a strict prefix or suffix of a stanza' },
  'mutate.poison': {
    weight: 160,
    closes: false,
    breaks: 'a control character, U+FFFE/U+FFFF or "<" put into a stanza',
  },
  'mutate.attr-swap': { weight: 80, closes: false, breaks: 'an address attribute swapped with another one' },
  'mutate.key-length': { weight: 100, closes: false, breaks: 'key bytes of the wrong length' },
  'mutate.base64': { weight: 100, closes: false, breaks: 'base64 cut, unpadded, wrapped or not canonical' },
  'mutate.bad-jid': { weight: 100, closes: false, breaks: 'an address that is no JID' },
  'mutate.bad-id': { weight: 100, closes: false, breaks: 'an id empty, too long or with foreign characters' },
  'mutate.extra': { weight: 80, closes: false, breaks: 'an attribute or child the kind does not define' },
  'spoofed-from': { weight: 80, closes: false, breaks: 'a client stanza carrying from' },
  'server-stanza': { weight: 60, closes: false, breaks: 'a server-to-client stanza sent by a client' },
  'unknown-kind': { weight: 100, closes: false, breaks: 'a root element or discriminator of no kind' },
  deep: { weight: 60, closes: false, breaks: 'elements nested 33 to 2000 deep' },
  entity: { weight: 100, closes: false, breaks: 'DOCTYPE entity bombs, external entities, bad references' },
  attrs: { weight: 60, closes: false, breaks: '65 to 2000 attributes, or an attribute twice' },
  names: { weight: 80, closes: false, breaks: '__proto__ and other reserved, prefixed, long or bad names' },
  markup: {
    weight: 80,
    closes: false,
    breaks: 'XML declaration, PI, comment, CDATA, two roots, mixed content',
  },
  limits: { weight: 20, closes: false, breaks: 'an attribute value over 4096, over 10,000 elements' },
  empty: { weight: 30, closes: false, breaks: 'an empty or whitespace-only frame' },
  'not-xml': { weight: 30, closes: false, breaks: 'text that is no XML (JSON, HTTP, plain words)' },
  control: { weight: 60, closes: false, breaks: 'control characters alone or around a stanza' },
  'invalid-utf8': { weight: 60, closes: true, breaks: 'a text frame that is not UTF-8' },
  binary: { weight: 60, closes: true, breaks: 'a binary frame' },
  login: { weight: 20, closes: true, breaks: 'a valid <login> (unknown address, or a second login)' },
  oversized: { weight: 1, closes: true, breaks: 'a frame just over the 1 MiB stanza limit' },
  'over-cap': { weight: 1, closes: true, breaks: 'a frame over the 2 MiB transport cap' },
} as const satisfies Record<string, { weight: number; closes: boolean; breaks: string }>;

export type HostileFamily = keyof typeof HOSTILE_FAMILIES;

export const FAMILY_NAMES = Object.keys(HOSTILE_FAMILIES) as HostileFamily[];

/** Families whose frames close the connection by rule. */
export const CLOSING_FAMILIES: ReadonlySet<string> = new Set(
  FAMILY_NAMES.filter((f) => HOSTILE_FAMILIES[f].closes),
);

/** True for a family whose frames close the connection by rule. */
export function isClosingFamily(family: string): boolean {
  return CLOSING_FAMILIES.has(family);
}

export function frameBytes(frame: HostileFrame): number {
  return typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.byteLength;
}

/** A one-line description: family, size, kind of frame, and the start of it. */
export function describeFrame(frame: HostileFrame, preview = 96): string {
  const bytes = frameBytes(frame);
  const text =
    typeof frame.data === 'string'
      ? frame.data.slice(0, preview)
      : frame.data.subarray(0, preview).toString('hex');
  const more =
    (typeof frame.data === 'string' ? frame.data.length : frame.data.byteLength) > preview ? '…' : '';
  return `${frame.family} (${bytes} B${frame.binary ? ', binary' : ''}${typeof frame.data === 'string' ? '' : ', hex'}): ${JSON.stringify(text)}${more}`;
}

function make(family: HostileFamily, data: string | Buffer, binary = false): HostileFrame {
  const frame: HostileFrame = { data, binary, family };
  // fast-check prints counterexamples with this: a line per frame, never a megabyte of text.
  Object.defineProperty(frame, fc.toStringMethod, { value: () => describeFrame(frame), enumerable: false });
  return frame;
}

// ---- fixtures ----------------------------------------------------------------------------------

export interface Fixture {
  /** `<kind>/<file>` under fixtures/stanzas/valid. */
  readonly name: string;
  readonly direction: 'c2s' | 's2c';
  readonly node: StanzaNode;
  /** Canonical text (what mutations start from). */
  readonly text: string;
}

const FIXTURE_DIR = new URL('../../../fixtures/stanzas/valid/', import.meta.url);
/** Mutations start from fixtures up to this size: the 812-prekey upload is left out. */
const MAX_MUTATED_FIXTURE = 8 * 1024;

let fixtureCache: readonly Fixture[] | undefined;

/** The valid stanza fixtures, parsed and in canonical form. */
export function loadFixtures(): readonly Fixture[] {
  if (fixtureCache) return fixtureCache;
  const out: Fixture[] = [];
  for (const kind of readdirSync(FIXTURE_DIR).sort()) {
    for (const file of readdirSync(new URL(`${kind}/`, FIXTURE_DIR)).sort()) {
      if (!file.endsWith('.xml')) continue;
      const parsed = parseStanza(readFileSync(new URL(`${kind}/${file}`, FIXTURE_DIR)));
      if (!parsed.ok) throw new Error(`fixture ${kind}/${file} does not parse: ${parsed.violation.message}`);
      out.push({
        name: `${kind}/${file}`,
        direction: file.startsWith('s2c') ? 's2c' : 'c2s',
        node: parsed.node,
        text: serializeStanza(parsed.node),
      });
    }
  }
  fixtureCache = out;
  return out;
}

function pools() {
  const all = loadFixtures();
  const c2s = all.filter((f) => f.direction === 'c2s' && f.text.length <= MAX_MUTATED_FIXTURE);
  return {
    c2s,
    s2c: all.filter((f) => f.direction === 's2c' && f.text.length <= MAX_MUTATED_FIXTURE),
    login: all.filter((f) => f.direction === 'c2s' && f.node.tag === 'login'),
  };
}

// ---- node helpers ------------------------------------------------------------------------------

type Path = readonly number[];

interface Located {
  readonly path: Path;
  readonly node: StanzaNode;
  readonly parent?: StanzaNode;
}

function walk(node: StanzaNode, path: Path = [], parent?: StanzaNode): Located[] {
  const here: Located = parent ? { path, node, parent } : { path, node };
  return [here, ...childrenOf(node).flatMap((c, i) => walk(c, [...path, i], node))];
}

/** A copy of `root` with the element at `path` replaced by `fn` of it. */
function replaceAt(root: StanzaNode, path: Path, fn: (n: StanzaNode) => StanzaNode): StanzaNode {
  const [i, ...rest] = path;
  if (i === undefined) return fn(root);
  const kids = childrenOf(root).map((c, j) => (j === i ? replaceAt(c, rest, fn) : c));
  return { ...root, content: kids };
}

const withAttrs = (n: StanzaNode, attrs: Record<string, string>): StanzaNode => ({ ...n, attrs });

/** Inserts raw attribute text right after the root's tag name. */
function insertRootAttr(text: string, raw: string): string {
  const m = /^<[A-Za-z_][\w.-]*/.exec(text);
  const at = m ? m[0].length : 0;
  return `${text.slice(0, at)} ${raw}${text.slice(at)}`;
}

/** Position right after the root's start tag, when the root has content (else undefined). */
function afterRootStart(text: string): number | undefined {
  const gt = text.indexOf('>');
  if (gt < 0 || text[gt - 1] === '/') return undefined;
  return gt + 1;
}

const pick = <T>(items: readonly T[], n: number): T => {
  const item = items[n % items.length];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
};

// ---- shared pieces -----------------------------------------------------------------------------

const SERVER = 's.whatsapp.net';
const LENA = '491701234567@s.whatsapp.net';
const ME = '1-10853634039893@interop';
const MSG_ID = '3EB0C4F7A1D2E3F4A5B6C7';
const messageOpen = `<message id="${MSG_ID}" to="${LENA}" type="text">`;

/** C0 control characters XML 1.0 forbids everywhere (tab, LF and CR are allowed). */
const C0 = [...Array(32).keys()]
  .filter((c) => c !== 9 && c !== 10 && c !== 13)
  .map((c) => String.fromCharCode(c));
const POISON = [...C0, '\uFFFE', '\uFFFF', '<'];

/** Root tags of the profile's stanza kinds (harness/schema/kinds.ts). */
const KNOWN_ROOTS = new Set([
  'message',
  'ack',
  'receipt',
  'iq',
  'notification',
  'presence',
  'chatstate',
  'login',
  'success',
  'failure',
  'stream-error',
  'ib',
]);
const RESERVED = ['__proto__', 'constructor', 'prototype'];
/** Names that are fine XML but would be trouble as object keys; the closed vocabulary refuses them. */
const OBJECT_KEYS = [
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupGetter__',
];

const nameArb = fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/);

// ---- mutations of valid client stanzas ----------------------------------------------------------

function truncate(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  // A strict prefix lacks the root's end, a strict suffix its start: never well-formed.
  return fc.tuple(fc.constantFrom(...c2s), fc.nat(), fc.boolean()).map(([f, n, head]) => {
    const k = 1 + (n % (f.text.length - 1));
    return make('mutate.truncate', head ? f.text.slice(0, k) : f.text.slice(k));
  });
}

function poison(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  return fc
    .tuple(fc.constantFrom(...c2s), fc.nat(), fc.constantFrom(...POISON), fc.boolean())
    .map(([f, n, p, insert]) => {
      const i = n % f.text.length;
      const replace = !insert && f.text[i] !== p;
      return make('mutate.poison', f.text.slice(0, i) + p + f.text.slice(replace ? i + 1 : i));
    });
}

const JID_ATTRS = new Set(['to', 'jid']);

function attrSwap(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  // An address attribute gets the value of another attribute, which holds no "@" and is not the
  // server's name: no JID format accepts it.
  const cases = c2s.flatMap((f) =>
    walk(f.node).flatMap(({ path, node }) =>
      Object.entries(node.attrs).flatMap(([a, av]) =>
        JID_ATTRS.has(a) && av.includes('@')
          ? Object.entries(node.attrs)
              .filter(([b, bv]) => b !== a && bv !== av && !bv.includes('@') && bv !== SERVER)
              .map(([b]) => ({ f, path, a, b }))
          : [],
      ),
    ),
  );
  return fc.constantFrom(...cases).map(({ f, path, a, b }) => {
    const node = replaceAt(f.node, path, (n) =>
      withAttrs(n, { ...n.attrs, [a]: n.attrs[b] ?? '', [b]: n.attrs[a] ?? '' }),
    );
    return make('mutate.attr-swap', serializeStanza(node));
  });
}

/** Byte lengths of key material (PROFILE.md §2.2, §4.4); `value` under `kyber` is 1569. */
const KEY_LENGTHS: Readonly<Record<string, number>> = {
  registration: 4,
  type: 1,
  identity: 32,
  id: 3,
  value: 32,
  signature: 64,
};

function keyLength(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const cases = c2s.flatMap((f) =>
    walk(f.node).flatMap(({ path, node, parent }) => {
      const expected = node.tag === 'value' && parent?.tag === 'kyber' ? 1569 : KEY_LENGTHS[node.tag];
      const c = node.content;
      return expected !== undefined && c !== undefined && isBytes(c) && c.byteLength === expected
        ? [{ f, path, expected }]
        : [];
    }),
  );
  return fc
    .tuple(fc.constantFrom(...cases), fc.integer({ min: 1, max: 64 }), fc.boolean())
    .map(([{ f, path, expected }, delta, longer]) => {
      // Shorter lands on 0..expected-1 (0: the element left empty), longer on up to 64 more.
      const len = longer ? expected + delta : (((expected - delta) % expected) + expected) % expected;
      const node = replaceAt(f.node, path, (n) => {
        const bytes = new Uint8Array(len).map((_, i) => 0x5a ^ i);
        return len === 0 ? { tag: n.tag, attrs: n.attrs } : { ...n, content: bytes };
      });
      return make('mutate.key-length', serializeStanza(node));
    });
}

const B64_TEXT = />([A-Za-z0-9+/]+={0,2})<\//g;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALIEN = ['-', '_', '!', '*', '.', '$', '%', '#', '@', '^', ' ', '~'];

/** Base64 that is not canonical: no decoder of the profile may accept it. */
function breakBase64(s: string, op: number, n: number): string {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  switch (op % 5) {
    case 0: // cut 1..3 characters: the length is no longer a multiple of 4
      return s.slice(0, s.length - (1 + (n % 3)));
    case 1: // padding dropped (or, without padding, one character cut)
      return pad > 0 ? s.slice(0, s.length - pad) : s.slice(0, -1);
    case 2: {
      // a character outside the alphabet (base64url's - and _ included)
      const i = n % s.length;
      return s.slice(0, i) + pick(ALIEN, n) + s.slice(i + 1);
    }
    case 3: {
      // non-zero trailing bits before the padding
      if (pad === 0) return `${s}=`;
      const at = s.length - pad - 1;
      const v = B64.indexOf(s[at] ?? 'A');
      return s.slice(0, at) + (B64[v ^ 1] ?? 'B') + s.slice(at + 1);
    }
    default: {
      // line-wrapped, as MIME writes it
      const i = 1 + (n % (s.length - 1));
      return `${s.slice(0, i)}\n${s.slice(i)}`;
    }
  }
}

function base64(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const cases = c2s.flatMap((f) => {
    const texts = [...f.text.matchAll(B64_TEXT)].map((m) => ({
      f,
      at: (m.index ?? 0) + 1,
      len: m[1]?.length ?? 0,
    }));
    const attr = f.node.attrs.authkey === undefined ? [] : [{ f, at: -1, len: 0 }];
    return [...texts, ...attr];
  });
  return fc.tuple(fc.constantFrom(...cases), fc.nat(), fc.nat()).map(([{ f, at, len }, op, n]) => {
    if (at < 0) {
      const authkey = breakBase64(f.node.attrs.authkey ?? '', op, n);
      return make('mutate.base64', serializeStanza(withAttrs(f.node, { ...f.node.attrs, authkey })));
    }
    const broken = breakBase64(f.text.slice(at, at + len), op, n);
    return make('mutate.base64', f.text.slice(0, at) + broken + f.text.slice(at + len));
  });
}

const BAD_JIDS = [
  '',
  '@',
  '@s.whatsapp.net',
  '491701234567@',
  '491701234567',
  '491701234567@S.WHATSAPP.NET',
  '491701234567@whatsapp.net',
  '491701234567@s.whatsapp.net.example.com',
  '491701234567@s.whatsapp.net@s.whatsapp.net',
  '+491701234567@s.whatsapp.net',
  '4917 01234567@s.whatsapp.net',
  ' 491701234567@s.whatsapp.net',
  '491701234567@s.whatsapp.net\n',
  '49170123456789012345678@s.whatsapp.net',
  '491701234567:1000@s.whatsapp.net',
  '491701234567:@s.whatsapp.net',
  '491701234567:-1@s.whatsapp.net',
  'alice@s.whatsapp.net',
  '٤٩١٧٠١٢٣٤٥٦٧@s.whatsapp.net',
  '1-@interop',
  '-10853634039893@interop',
  '12345678901-10853634039893@interop',
  '1-10853634039893@INTEROP',
  '1234@g.us',
  '120363041234567890-@g.us',
  '491701234567@lid.example',
  '../../etc/passwd',
  'javascript:alert(1)',
  '__proto__',
  '<script>@s.whatsapp.net',
];

const badJidArb = fc.oneof(
  { arbitrary: fc.constantFrom(...BAD_JIDS), weight: 3 },
  fc.stringMatching(/^[a-z0-9.:-]{0,30}$/).filter((s) => s !== SERVER),
  fc.tuple(fc.stringMatching(/^[0-9]{1,20}$/), fc.stringMatching(/^[a-z]{1,12}(\.[a-z]{2,5})?$/)).map(
    // Never one of the four domains a JID may have.
    ([u, d]) => `${u}@${['lid', 'interop', 'g.us'].includes(d) ? `${d}x` : d}`,
  ),
  fc.integer({ min: 21, max: 200 }).map((n) => `${'9'.repeat(n)}@s.whatsapp.net`),
);

function badJid(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const cases = c2s.flatMap((f) =>
    walk(f.node).flatMap(({ path, node }) =>
      Object.keys(node.attrs)
        .filter((a) => JID_ATTRS.has(a))
        .map((a) => ({ f, path, a })),
    ),
  );
  return fc.tuple(fc.constantFrom(...cases), badJidArb).map(([{ f, path, a }, jid]) => {
    const node = replaceAt(f.node, path, (n) => withAttrs(n, { ...n.attrs, [a]: jid }));
    return make('mutate.bad-jid', serializeStanza(node));
  });
}

const ID_BAD_CHARS = [
  ' ',
  '/',
  '+',
  '!',
  '"',
  "'",
  '<',
  '>',
  '&',
  'ä',
  '😀',
  '\t',
  '\n',
  '@',
  '#',
  '%',
  '?',
  ',',
  ';',
  '\\',
];

const badIdArb = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 65, max: 300 }).map((n) => '3EB0'.padEnd(n, 'F')),
  fc
    .tuple(
      fc.stringMatching(/^[0-9A-F]{0,40}$/),
      fc.constantFrom(...ID_BAD_CHARS),
      fc.stringMatching(/^[0-9A-F]{0,20}$/),
    )
    .map(([a, c, b]) => a + c + b),
  fc.constantFrom(
    '../../etc/passwd',
    '3EB0 C4F7A1D2E3F4A5B6C7',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j lookup, sent literally.
    '${jndi:ldap://127.0.0.1/x}',
    "1' OR '1'='1",
  ),
);

function badId(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const withId = c2s.filter((f) => f.node.attrs.id !== undefined);
  return fc
    .tuple(fc.constantFrom(...withId), badIdArb)
    .map(([f, id]) => make('mutate.bad-id', serializeStanza(withAttrs(f.node, { ...f.node.attrs, id }))));
}

function extra(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  // The closed vocabulary of PROFILE.md §2.2: `x-` names appear in no stanza table.
  const cases = c2s.flatMap((f) => walk(f.node).map(({ path, node }) => ({ f, path, node })));
  return fc
    .tuple(
      fc.constantFrom(...cases),
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
      fc.stringMatching(/^[a-z0-9]{0,8}$/),
      fc.boolean(),
    )
    .map(([{ f, path, node }, name, value, asChild]) => {
      const bytes = node.content !== undefined && isBytes(node.content);
      const mutated = replaceAt(f.node, path, (n) =>
        asChild && !bytes
          ? { ...n, content: [...childrenOf(n), { tag: `x-${name}`, attrs: {} }] }
          : withAttrs(n, { ...n.attrs, [`x-${name}`]: value }),
      );
      return make('mutate.extra', serializeStanza(mutated));
    });
}

function spoofedFrom(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  // PROFILE.md §5.2: a client stanza never carries `from`, whoever it names.
  return fc
    .tuple(fc.constantFrom(...c2s), fc.constantFrom(LENA, SERVER, ME, '4915112345678@s.whatsapp.net', 'to'))
    .map(([f, from]) => {
      const value = from === 'to' ? (f.node.attrs.to ?? LENA) : from;
      return make('spoofed-from', serializeStanza(withAttrs(f.node, { ...f.node.attrs, from: value })));
    });
}

// ---- frames built from scratch ---------------------------------------------------------------

function unknownKind(): fc.Arbitrary<HostileFrame> {
  const tag = nameArb.filter((t) => !KNOWN_ROOTS.has(t));
  const attrs = fc.dictionary(nameArb, fc.stringMatching(/^[A-Za-z0-9.@:-]{0,16}$/), { maxKeys: 4 });
  const s = (n: StanzaNode) => make('unknown-kind', serializeStanza(n));
  return fc.oneof(
    fc.tuple(tag, attrs, fc.array(nameArb, { maxLength: 3 })).map(([t, a, kids]) =>
      s({
        tag: t,
        attrs: a,
        ...(kids.length > 0 ? { content: kids.map((k) => ({ tag: k, attrs: {} })) } : {}),
      }),
    ),
    fc
      .tuple(
        nameArb.filter((x) => !['encrypt', 'blocklist'].includes(x)),
        fc.constantFrom('get', 'set'),
      )
      .map(([xmlns, type]) =>
        s({
          tag: 'iq',
          attrs: { id: 'k1', xmlns, type, to: SERVER },
          content: [{ tag: 'query', attrs: {} }],
        }),
      ),
    nameArb
      .filter((t) => !['read', 'played', 'retry'].includes(t))
      .map((type) => s({ tag: 'receipt', attrs: { id: MSG_ID, to: LENA, type } })),
    nameArb
      .filter((t) => !['registration', 'count', 'key', 'rotate'].includes(t))
      .map((first) =>
        s({
          tag: 'iq',
          attrs: { id: 'k2', xmlns: 'encrypt', type: 'get', to: SERVER },
          content: [{ tag: first, attrs: {} }],
        }),
      ),
    fc
      .constantFrom(
        '<ib/>',
        '<ib><dirty/></ib>',
        '<notification id="n.1" type="encrypt" t="1764000000"/>',
        '<notification id="n.1" type="devices" t="1764000000"><count value="1"/></notification>',
        '<iq id="k3" type="get" to="s.whatsapp.net"/>',
        '<stream:stream to="s.whatsapp.net" version="1.0"/>',
        '<presence type="__proto__"/>',
        '<iq id="k4" xmlns="__proto__" type="get" to="s.whatsapp.net"/>',
        '<receipt id="3EB0C4F7A1D2E3F4A5B6C7" to="491701234567@s.whatsapp.net" type="constructor"/>',
      )
      .map((t) => make('unknown-kind', t)),
  );
}

function deep(): fc.Arbitrary<HostileFrame> {
  return fc
    .tuple(fc.integer({ min: 33, max: 2000 }), fc.constantFrom('a', 'enc', 'message', 'x_y'), fc.nat(3))
    .map(([depth, tag, shape]) => {
      const inner = depth - 1;
      const open = `<${tag}>`.repeat(inner);
      switch (shape) {
        case 0: // closed, inside a message
          return make('deep', `${messageOpen}${open}${`</${tag}>`.repeat(inner)}</message>`);
        case 1: // never closed
          return make('deep', `${messageOpen}${open}`);
        case 2: // a leaf of bytes at the bottom
          return make('deep', `<${tag}>${open}AAAA${`</${tag}>`.repeat(inner)}</${tag}>`);
        default: // attributes on every level
          return make(
            'deep',
            `${Array.from({ length: depth }, (_, i) => `<${tag} n="${i}">`).join('')}${`</${tag}>`.repeat(depth)}`,
          );
      }
    });
}

const BAD_REFS = [
  '&lol;',
  '&xxe;',
  '&nbsp;',
  '&copy;',
  '&#0;',
  '&#x0;',
  '&#8;',
  '&#x1F;',
  '&#xD800;',
  '&#xDFFF;',
  '&#xFFFE;',
  '&#xFFFF;',
  '&#x110000;',
  '&#1114112;',
  '&#99999999;',
  '&#;',
  '&#x;',
  '&amp',
  '&#65',
  '&',
  '&;',
  '&__proto__;',
];

function entity(): fc.Arbitrary<HostileFrame> {
  const laughs = fc
    .tuple(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 2, max: 10 }), fc.boolean())
    .map(([levels, fan, inAttr]) => {
      const defs = [`<!ENTITY lol0 "lol">`];
      for (let i = 1; i <= levels; i++) defs.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(fan)}">`);
      const ref = `&lol${levels};`;
      const body = inAttr
        ? `<presence type="available" name="${ref}"/>`
        : `${messageOpen}<enc v="2" type="msg">${ref}</enc></message>`;
      return `<!DOCTYPE lolz [${defs.join('')}]>${body}`;
    });
  const quadratic = fc
    .tuple(fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 1000 }))
    .map(
      ([len, refs]) =>
        `<!DOCTYPE q [<!ENTITY a "${'A'.repeat(len)}">]><presence name="${'&a;'.repeat(refs)}"/>`,
    );
  const external = fc.constantFrom(
    '<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><presence name="&xxe;"/>',
    '<!DOCTYPE m [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]><presence name="&xxe;"/>',
    '<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///dev/random">]><message id="&xxe;"/>',
    '<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><presence/>',
    '<!DOCTYPE m PUBLIC "-//X//Y" "http://127.0.0.1:1/x.dtd"><presence/>',
    '<!DOCTYPE m SYSTEM "file:///etc/passwd"><presence/>',
    '<!DOCTYPE presence><presence type="available"/>',
    '<!DOCTYPE m [<!ELEMENT m ANY><!ATTLIST m id CDATA "x">]><m/>',
  );
  const refs = fc
    .tuple(fc.constantFrom(...BAD_REFS), fc.nat(2))
    .map(([ref, where]) =>
      where === 0
        ? `<presence type="available" name="${ref}"/>`
        : where === 1
          ? `<message id="${MSG_ID}${ref}" to="${LENA}" type="text"><enc v="2" type="msg">AAAA</enc></message>`
          : `${messageOpen}<enc v="2" type="msg">${ref}</enc></message>`,
    );
  return fc.oneof(laughs, quadratic, external, refs).map((t) => make('entity', t));
}

function attrs(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const many = fc
    .tuple(fc.integer({ min: 65, max: 2000 }), fc.constantFrom('presence', 'message', 'iq', 'x'))
    .map(([n, tag]) => `<${tag} ${Array.from({ length: n }, (_, i) => `a${i}="${i}"`).join(' ')}/>`);
  const attributed = c2s.filter((f) => Object.keys(f.node.attrs).length > 0);
  const twice = fc.tuple(fc.constantFrom(...attributed), fc.nat(), fc.boolean()).map(([f, n, same]) => {
    const name = pick(Object.keys(f.node.attrs), n);
    return insertRootAttr(f.text, `${name}="${same ? (f.node.attrs[name] ?? '') : 'x'}"`);
  });
  const repeated = fc
    .integer({ min: 2, max: 200 })
    .map((n) => `<presence ${Array.from({ length: n }, (_, i) => `type="t${i}"`).join(' ')}/>`);
  return fc.oneof(many, twice, repeated).map((t) => make('attrs', t));
}

function names(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const reserved = fc.constantFrom(...RESERVED);
  const asRoot = reserved.map((n) => `<${n} id="k1"/>`);
  const asChild = reserved.map(
    (n) => `<iq id="k1" xmlns="encrypt" type="get" to="${SERVER}"><count/><${n}/></iq>`,
  );
  const asAttr = fc
    .tuple(fc.constantFrom(...c2s), fc.constantFrom(...RESERVED, ...OBJECT_KEYS))
    .map(([f, n]) => insertRootAttr(f.text, `${n}="1"`));
  const prefixed = fc.constantFrom(
    `<x:message id="${MSG_ID}" to="${LENA}" type="text"/>`,
    `<presence xmlns:x="urn:x" type="available"/>`,
    `<presence xml:lang="en" type="available"/>`,
    `<iq id="k1" xmlns="w:p" type="get" to="${SERVER}"><x:ping/></iq>`,
  );
  const long = fc
    .tuple(fc.integer({ min: 65, max: 300 }), fc.boolean())
    .map(([n, el]) => (el ? `<${'m'.repeat(n)}/>` : `<presence ${'a'.repeat(n)}="1"/>`));
  const bad = fc.constantFrom(
    '<1message/>',
    '<-presence/>',
    '<.presence/>',
    '<mes$age/>',
    '<message!/>',
    '<mésage/>',
    '<presence a!b="1"/>',
    '<presence 1a="1"/>',
    '<presence tÿpe="available"/>',
    '< presence/>',
  );
  return fc.oneof(asRoot, asChild, asAttr, prefixed, long, bad).map((t) => make('names', t));
}

function markup(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const f = fc.constantFrom(...c2s);
  const withChildren = c2s.filter(
    (x) => afterRootStart(x.text) !== undefined && childrenOf(x.node).length > 0,
  );
  const inside = (x: Fixture, what: string) => {
    const at = afterRootStart(x.text) ?? 0;
    return x.text.slice(0, at) + what + x.text.slice(at);
  };
  return fc
    .oneof(
      f.map((x) => `<?xml version="1.0" encoding="UTF-8"?>${x.text}`),
      fc.constantFrom(...withChildren).map((x) => inside(x, '<?php system("id"); ?>')),
      f.map((x) => `<!-- hostile -->${x.text}`),
      fc.constantFrom(...withChildren).map((x) => inside(x, '<!-- hostile -->')),
      fc.constantFrom(...withChildren).map((x) => inside(x, '<![CDATA[<enc>AAAA</enc>]]>')),
      fc.tuple(f, f).map(([a, b]) => a.text + b.text),
      f.map((x) => `${x.text}<x/>`),
      f.map((x) => `junk${x.text}`),
      f.map((x) => `${x.text}junk`),
      fc.constantFrom(...withChildren).map((x) => inside(x, 'hello')),
      f.map((x) => `\uFEFF${x.text}`),
      fc.constantFrom(...withChildren).map((x) => x.text.replace(/<\/([\w.-]+)>$/, '</$1x>')),
      fc.constantFrom(
        '<presence type=available/>',
        '<presence type/>',
        '<presence type=\'available"/>',
        '<presence type="a<b"/>',
        '<!ELEMENT presence ANY><presence/>',
        '<presence></message>',
        '<presence>',
        '</presence>',
        '<presence/ >',
        '<>',
        '<',
        '>',
      ),
    )
    .map((t) => make('markup', t));
}

function limits(): fc.Arbitrary<HostileFrame> {
  return fc
    .oneof(
      fc
        .integer({ min: 4097, max: 16384 })
        .map((n) => `<presence type="available" name="${'n'.repeat(n)}"/>`),
      fc.integer({ min: 10_000, max: 11_000 }).map((n) => `<iq id="k1">${'<a/>'.repeat(n)}</iq>`),
    )
    .map((t) => make('limits', t));
}

function empty(): fc.Arbitrary<HostileFrame> {
  return fc
    .oneof(fc.constantFrom('', ' ', '\n', '\r\n', '\t'), fc.stringMatching(/^[ \t\r\n]{1,64}$/))
    .map((t) => make('empty', t));
}

function notXml(): fc.Arbitrary<HostileFrame> {
  return fc
    .oneof(
      fc.constantFrom(
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '[]',
        'null',
        'undefined',
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        'hello',
        '0',
        'true',
        'WA\u0006\u0003',
      ),
      fc.stringMatching(/^[A-Za-z0-9 ,.;:!?{}[\]"'=+-]{1,64}$/),
    )
    .map((t) => make('not-xml', t));
}

function control(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  const ctl = fc.constantFrom(...C0, '\uFFFE', '\uFFFF');
  return fc
    .oneof(
      fc.array(ctl, { minLength: 1, maxLength: 64 }).map((cs) => cs.join('')),
      fc.tuple(fc.constantFrom(...c2s), ctl).map(([f, c]) => c + f.text),
      fc.tuple(fc.constantFrom(...c2s), ctl).map(([f, c]) => f.text + c),
      fc
        .tuple(ctl, fc.constantFrom('id', 'name'))
        .map(([c, a]) =>
          a === 'id'
            ? `<iq id="k${c}1" xmlns="w:p" type="get" to="${SERVER}"><ping/></iq>`
            : `<presence name="a${c}b"/>`,
        ),
      ctl.map((c) => `${messageOpen}<enc v="2" type="msg">AA${c}A</enc></message>`),
    )
    .map((t) => make('control', t));
}

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xc3],
  [0xe2, 0x82],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0xfe, 0xff],
];

function invalidUtf8(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  // Put at a character boundary (before an ASCII byte, or at the end), a sequence no UTF-8
  // decoder may accept stays invalid whatever surrounds it.
  const spliced = fc
    .tuple(fc.constantFrom(...c2s), fc.nat(), fc.constantFrom(...INVALID_UTF8), fc.boolean())
    .map(([f, n, seq, replace]) => {
      const b = Buffer.from(f.text);
      const ascii = [...b.keys()].filter((i) => (b[i] ?? 0) < 0x80);
      const i = ascii.length > 0 ? pick(ascii, n) : b.length;
      const cut = replace && i < b.length ? i + 1 : i;
      return Buffer.concat([b.subarray(0, i), Buffer.from(seq), b.subarray(cut)]);
    });
  const raw = fc
    .tuple(fc.uint8Array({ maxLength: 256 }), fc.constantFrom(...INVALID_UTF8))
    // The space ends whatever the random bytes left open, so the sequence stands alone.
    .map(([bytes, seq]) => Buffer.concat([Buffer.from(bytes), Buffer.from([0x20]), Buffer.from(seq)]));
  return fc.oneof(spliced, raw).map((b) => make('invalid-utf8', b));
}

function binary(c2s: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  return fc
    .oneof(
      fc.constantFrom(...c2s).map((f) => Buffer.from(f.text)),
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      fc
        .uint8Array({ maxLength: 64 })
        .map((b) => Buffer.concat([Buffer.from([0x57, 0x41, 0x06, 0x03]), Buffer.from(b)])),
      fc.constant(Buffer.alloc(0)),
    )
    .map((b) => make('binary', b, true));
}

function login(logins: readonly Fixture[]): fc.Arbitrary<HostileFrame> {
  return fc.constantFrom(...logins).map((f) => make('login', f.text));
}

/** A frame of exactly `size` bytes in one of three shapes. */
function sized(family: 'oversized' | 'over-cap', size: number, shape: number): HostileFrame {
  const head = shape === 0 ? `${messageOpen}<enc v="2" type="msg">` : shape === 1 ? '<presence name="' : '';
  const tail = shape === 0 ? '</enc></message>' : shape === 1 ? '"/>' : '';
  return make(family, head + (shape === 0 ? 'A' : 'x').repeat(size - head.length - tail.length) + tail);
}

function oversized(): fc.Arbitrary<HostileFrame> {
  return fc
    .tuple(fc.integer({ min: 1, max: 64 * 1024 }), fc.nat(2))
    .map(([over, shape]) => sized('oversized', STANZA_LIMIT_BYTES + over, shape));
}

function overCap(): fc.Arbitrary<HostileFrame> {
  return fc
    .tuple(fc.integer({ min: 1, max: 64 * 1024 }), fc.nat(2))
    .map(([over, shape]) => sized('over-cap', TRANSPORT_CAP_BYTES + over, shape));
}

// ---- the union ---------------------------------------------------------------------------------

/** The arbitrary of one family. */
export function familyArbitrary(family: HostileFamily): fc.Arbitrary<HostileFrame> {
  const p = pools();
  switch (family) {
    case 'mutate.truncate':
      return truncate(p.c2s);
    case 'mutate.poison':
      return poison(p.c2s);
    case 'mutate.attr-swap':
      return attrSwap(p.c2s);
    case 'mutate.key-length':
      return keyLength(p.c2s);
    case 'mutate.base64':
      return base64(p.c2s);
    case 'mutate.bad-jid':
      return badJid(p.c2s);
    case 'mutate.bad-id':
      return badId(p.c2s);
    case 'mutate.extra':
      return extra(p.c2s);
    case 'spoofed-from':
      return spoofedFrom(p.c2s);
    case 'server-stanza':
      return fc.constantFrom(...p.s2c).map((f) => make('server-stanza', f.text));
    case 'unknown-kind':
      return unknownKind();
    case 'deep':
      return deep();
    case 'entity':
      return entity();
    case 'attrs':
      return attrs(p.c2s);
    case 'names':
      return names(p.c2s);
    case 'markup':
      return markup(p.c2s);
    case 'limits':
      return limits();
    case 'empty':
      return empty();
    case 'not-xml':
      return notXml();
    case 'control':
      return control(p.c2s);
    case 'invalid-utf8':
      return invalidUtf8(p.c2s);
    case 'binary':
      return binary(p.c2s);
    case 'login':
      return login(p.login);
    case 'oversized':
      return oversized();
    case 'over-cap':
      return overCap();
  }
}

export interface HostileOptions {
  /** Include the families that close the connection by rule (default true). */
  readonly closing?: boolean;
  /** Include the two size families (default true). */
  readonly oversized?: boolean;
  /** Only these families (default all, subject to the two switches above). */
  readonly families?: readonly HostileFamily[];
}

/** One hostile frame of any family, drawn by weight. */
export function hostileFrame(options: HostileOptions = {}): fc.Arbitrary<HostileFrame> {
  const chosen = (options.families ?? FAMILY_NAMES).filter(
    (f) =>
      (options.closing !== false || !HOSTILE_FAMILIES[f].closes) &&
      (options.oversized !== false || (f !== 'oversized' && f !== 'over-cap')),
  );
  if (chosen.length === 0) throw new Error('no hostile family left to draw from');
  return fc.oneof(
    ...chosen.map((f) => ({ arbitrary: familyArbitrary(f), weight: HOSTILE_FAMILIES[f].weight })),
  );
}

/** Frames per property run in the campaign (harness/server/hostile.test.ts). */
export const HOSTILE_BATCH = 50;

/** What one property run of the campaign draws: `size` frames, sent on one link at once. */
export function hostileBatch(
  size = HOSTILE_BATCH,
  options: HostileOptions = {},
): fc.Arbitrary<HostileFrame[]> {
  return fc.array(hostileFrame(options), { minLength: size, maxLength: size });
}

/** The batch a campaign worker drew at `seed` and `path` (what a failing run reports). */
export function replayBatch(seed: number, path: string): HostileFrame[] {
  let batch: HostileFrame[] = [];
  fc.check(
    fc.property(hostileBatch(), (frames) => {
      batch = frames;
      return false;
    }),
    { seed, path, endOnFailure: true },
  );
  return batch;
}

// `npx tsx harness/server/testing/hostile-frames.ts <seed> <path>` lists that batch, one frame a
// line; with a frame index after the path it writes that frame's exact bytes to stdout.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [seed, path, index] = process.argv.slice(2);
  if (!seed || !path) {
    console.error('usage: hostile-frames.ts <seed> <path> [frame index]');
    process.exit(2);
  }
  const batch = replayBatch(Number(seed), path);
  if (index === undefined) {
    for (const [i, f] of batch.entries()) console.log(`${i} ${describeFrame(f)}`);
  } else {
    const f = batch[Number(index)];
    if (!f) throw new Error(`no frame ${index} in a batch of ${batch.length}`);
    process.stdout.write(f.data);
  }
}
