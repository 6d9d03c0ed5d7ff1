// Text XML -> StanzaNode, hardened for frames written by an adversary.
//
// Order of checks: size, UTF-8, forbidden characters, the structural scan (limits, names,
// DOCTYPE/PI/comments, roots), entities, closing tags that do not match their element, then
// the node model (mixed content, base64, character references). The tree is built during the
// scan, in the same linear pass, so a frame is walked once; a problem the build finds is
// reported only when the scan and the entity check found none, so each frame gets the same one
// coded violation whatever order the problems appear in. Nothing here throws on input.

import { decodeBase64 } from './base64.ts';
import type { CodecLimits } from './limits.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { StanzaNode } from './node.ts';
import type { ScanSink, XmlViolation } from './scan.ts';
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
const WHITESPACE_ONLY = /^[ \t\r\n]*$/;
// XML 2.11: a carriage return, alone or before a line feed, reads as one line feed.
const LINE_END = /\r\n?/g;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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

  const tree = new TreeBuilder(known);
  const structural = scanFrame(text, limits, tree);
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
  if (tree.mismatch) return { ok: false, violation: tree.mismatch };
  if (tree.invalid) return { ok: false, violation: tree.invalid };
  // The scan has seen exactly one root, closed.
  if (!tree.root) return reject('VIO_XML_MALFORMED', 'expected one root element');
  return { ok: true, node: tree.root };
}

interface Open {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  children: StanzaNode[] | undefined;
  text: string;
}

/**
 * Builds nodes as the scan walks the frame. It keeps the first closing tag that does not close
 * its element (`mismatch`) and, before that, the first node-model problem (`invalid`), in the
 * order a recursive conversion of the finished tree would meet them: an element's attributes,
 * then its children, then its own content.
 */
class TreeBuilder implements ScanSink {
  readonly #open: Open[] = [];
  readonly #known: Map<Uint8Array, string> | undefined;
  root: StanzaNode | undefined;
  mismatch: XmlViolation | undefined;
  invalid: XmlViolation | undefined;

  constructor(known: Map<Uint8Array, string> | undefined) {
    this.#known = known;
  }

  start(tag: string): void {
    this.#open.push({ tag, attrs: {}, children: undefined, text: '' });
  }

  attribute(name: string, value: string): void {
    if (this.mismatch || this.invalid) return;
    const top = this.#open[this.#open.length - 1];
    if (!top) return;
    const raw = value.includes('\r') ? value.replace(LINE_END, '\n') : value;
    const decoded = decodeEntities(raw);
    if (typeof decoded === 'string') top.attrs[name] = decoded;
    else
      this.invalid = {
        code: 'VIO_XML_ENTITY',
        message: `character reference &${decoded.ref}; in <${top.tag} ${name}> is not an XML character`,
      };
  }

  startEnd(empty: boolean): void {
    if (!empty) return;
    const top = this.#open.pop();
    if (top) this.#finish(top);
  }

  text(raw: string): void {
    const top = this.#open[this.#open.length - 1];
    if (top) top.text += raw;
  }

  end(name: string, offset: number, wellFormed: boolean): void {
    const top = this.#open.pop();
    if (this.mismatch) return;
    if (!top || !wellFormed || top.tag !== name) {
      this.mismatch = {
        code: 'VIO_XML_MALFORMED',
        message: top
          ? `closing tag </${name}> does not close <${top.tag}>`
          : `closing tag </${name}> without an open element`,
        offset,
      };
      return;
    }
    this.#finish(top);
  }

  #finish(e: Open): void {
    if (this.mismatch || this.invalid) return;
    const node = this.#node(e);
    if (!node) return;
    const parent = this.#open[this.#open.length - 1];
    if (!parent) this.root = node;
    else if (parent.children) parent.children.push(node);
    else parent.children = [node];
  }

  #node(e: Open): StanzaNode | undefined {
    const { tag, attrs, children } = e;
    const text = e.text;
    const hasText = text.length > 0 && !WHITESPACE_ONLY.test(text);
    if (hasText && children) {
      this.invalid = { code: 'VIO_XML_MIXED_CONTENT', message: `<${tag}> holds both text and elements` };
      return undefined;
    }
    if (children) return { tag, attrs, content: children };
    if (!hasText) return { tag, attrs };
    const base64 = text.includes('\r') ? text.replace(LINE_END, '\n') : text;
    const bytes = decodeBase64(base64);
    if (bytes === undefined || bytes.byteLength === 0) {
      this.invalid = { code: 'VIO_XML_BAD_BASE64', message: `text of <${tag}> is not canonical base64` };
      return undefined;
    }
    this.#known?.set(bytes, base64);
    return { tag, attrs, content: bytes };
  }
}

/** The value with its references replaced, or the first reference to a character XML forbids. */
function decodeEntities(raw: string): string | { readonly ref: string } {
  if (!raw.includes('&')) return raw;
  let bad: string | undefined;
  const out = raw.replace(ENTITY, (m, ref: string) => {
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const cp = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    if (!isXmlChar(cp)) {
      bad ??= ref;
      return m;
    }
    return String.fromCodePoint(cp);
  });
  return bad === undefined ? out : { ref: bad };
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
