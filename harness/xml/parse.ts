// Text XML -> StanzaNode, hardened for frames written by an adversary.
//
// Order of checks: size, UTF-8, forbidden characters, the structural scan (limits, names,
// DOCTYPE/PI/comments, roots), entities, fast-xml-parser's validator (tag matching), then the
// parse and the conversion to nodes (mixed content, base64). Each rejection is one coded
// violation; nothing here throws on input.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeBase64 } from './base64.ts';
import type { CodecLimits } from './limits.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { StanzaNode } from './node.ts';
import type { XmlViolation } from './scan.ts';
import { scanFrame } from './scan.ts';

export type { XmlViolation };

export type ParseResult =
  | { readonly ok: true; readonly node: StanzaNode }
  | { readonly ok: false; readonly violation: XmlViolation };

// Characters XML 1.0 forbids, and unpaired surrogates (which a JS string can hold even when
// the frame's bytes were valid UTF-8 only if it arrived as a string).
export const FORBIDDEN_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching forbidden control characters is the point.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BAD_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)/;
const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});/g;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  ignoreDeclaration: false,
  ignorePiTags: false,
});

const reject = (code: XmlViolation['code'], message: string, offset?: number): ParseResult => ({
  ok: false,
  violation: offset === undefined ? { code, message } : { code, message, offset },
});

/**
 * Parses one frame. With `known`, each bytes content of the node is entered there with the
 * base64 text it was decoded from, for writing it out again without encoding (serialize.ts).
 */
export function parseStanza(
  input: string | Uint8Array,
  limits: CodecLimits = DEFAULT_LIMITS,
  known?: Map<Uint8Array, string>,
): ParseResult {
  let text: string;
  if (typeof input === 'string') {
    // Cheap bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
    if (input.length * 3 > limits.maxBytes && Buffer.byteLength(input, 'utf8') > limits.maxBytes) {
      return reject('VIO_XML_TOO_LARGE', `stanza larger than ${limits.maxBytes} bytes`);
    }
    text = input;
  } else {
    if (input.byteLength > limits.maxBytes) {
      return reject('VIO_XML_TOO_LARGE', `stanza of ${input.byteLength} bytes, limit ${limits.maxBytes}`);
    }
    try {
      text = utf8.decode(input);
    } catch {
      return reject('VIO_XML_INVALID_UTF8', 'the frame is not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff)
    return reject('VIO_XML_INVALID_CHAR', 'a byte-order mark before the stanza', 0);

  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) {
    const cp = bad[0].charCodeAt(0).toString(16).padStart(4, '0');
    return reject('VIO_XML_INVALID_CHAR', `character U+${cp.toUpperCase()} is not allowed in XML`, bad.index);
  }

  const structural = scanFrame(text, limits);
  if (structural) return { ok: false, violation: structural };

  const entity = BAD_ENTITY.exec(text);
  if (entity) {
    const ref = text.slice(entity.index, text.indexOf(';', entity.index) + 1 || entity.index + 12);
    return reject(
      'VIO_XML_ENTITY',
      `entity or reference "${ref}" is not one of the five predefined`,
      entity.index,
    );
  }

  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const code = /is repeated/.test(msg) ? 'VIO_XML_DUPLICATE_ATTR' : 'VIO_XML_MALFORMED';
    return reject(code, `${msg} (line ${line}, column ${col})`);
  }

  let tree: unknown;
  try {
    tree = parser.parse(text);
  } catch (e) {
    return reject('VIO_XML_MALFORMED', `parser refused the stanza: ${(e as Error).message}`);
  }
  const roots = (tree as FxpItem[]).filter((item) => !('#text' in item));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined)
    return reject('VIO_XML_MALFORMED', 'expected one root element');
  return convert(root, known);
}

/** fast-xml-parser's ordered form: `{ tag: [items], ':@': attrs }` or `{ '#text': text }`. */
type FxpItem = Record<string, unknown>;

class ConvertError extends Error {
  constructor(readonly violation: XmlViolation) {
    super(violation.message);
  }
}

function convert(root: FxpItem, known?: Map<Uint8Array, string>): ParseResult {
  try {
    return { ok: true, node: toNode(root, known) };
  } catch (e) {
    if (e instanceof ConvertError) return { ok: false, violation: e.violation };
    throw e;
  }
}

function toNode(item: FxpItem, known?: Map<Uint8Array, string>): StanzaNode {
  let tag = '';
  for (const k of Object.keys(item)) if (k !== ':@') tag = k;
  const rawAttrs = (item[':@'] ?? {}) as Record<string, string>;
  const attrs: Record<string, string> = {};
  for (const name of Object.keys(rawAttrs)) attrs[name] = decodeEntities(rawAttrs[name] ?? '', tag, name);

  const items = (item[tag] ?? []) as FxpItem[];
  const children: StanzaNode[] = [];
  let text = '';
  for (const it of items) {
    const t = it['#text'];
    if (t !== undefined) text += String(t);
    else children.push(toNode(it, known));
  }
  const hasText = text.length > 0 && !/^[ \t\r\n]*$/.test(text);
  if (hasText && children.length > 0) {
    throw new ConvertError({
      code: 'VIO_XML_MIXED_CONTENT',
      message: `<${tag}> holds both text and elements`,
    });
  }
  if (children.length > 0) return { tag, attrs, content: children };
  if (!hasText) return { tag, attrs };
  const bytes = decodeBase64(text);
  if (bytes === undefined || bytes.byteLength === 0) {
    throw new ConvertError({
      code: 'VIO_XML_BAD_BASE64',
      message: `text of <${tag}> is not canonical base64`,
    });
  }
  known?.set(bytes, text);
  return { tag, attrs, content: bytes };
}

function decodeEntities(raw: string, tag: string, attr: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(ENTITY, (_m, ref: string) => {
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const cp = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    if (!isXmlChar(cp)) {
      throw new ConvertError({
        code: 'VIO_XML_ENTITY',
        message: `character reference &${ref}; in <${tag} ${attr}> is not an XML character`,
      });
    }
    return String.fromCodePoint(cp);
  });
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}
