// A single linear pass over a frame that enforces the codec's limits before any parser sees it.
//
// fast-xml-parser checks well-formedness, but not what a hostile peer can do to the harness
// (depth, element and attribute counts, reserved names) and it lets text outside the root, a
// second root and DOCTYPEs through its validator. This pass catches those, in order of
// appearance, and never recurses, so its cost is bounded by the frame length.

import type { ViolationCode } from '../codes.ts';
import type { CodecLimits } from './limits.ts';

export interface XmlViolation {
  readonly code: ViolationCode;
  readonly message: string;
  /** Character offset in the frame where the problem was found, when known. */
  readonly offset?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function checkName(
  name: string,
  what: 'element' | 'attribute',
  maxLength: number,
): string | undefined {
  if (name.length > maxLength) return `${what} name longer than ${maxLength} characters`;
  if (RESERVED_NAMES.has(name)) return `${what} name "${name}" is reserved`;
  if (name.includes(':')) return `${what} name "${name}" has a namespace prefix`;
  if (!NAME.test(name)) return `${what} name "${name}" is not a valid name`;
  return undefined;
}

const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const isWs = (c: number): boolean => c === SP || c === LF || c === TAB || c === CR;

function allWhitespace(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

/** Ends of an element or attribute name: whitespace, `/`, `>`, `=`, or a quote. */
function nameEnd(s: string, from: number): number {
  let j = from;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (isWs(c) || c === 0x2f || c === 0x3e || c === 0x3d || c === 0x22 || c === 0x27) break;
  }
  return j;
}

function skipWs(s: string, from: number): number {
  let j = from;
  while (j < s.length && isWs(s.charCodeAt(j))) j++;
  return j;
}

const fail = (code: ViolationCode, message: string, offset: number): XmlViolation => ({
  code,
  message,
  offset,
});

export function scanFrame(text: string, limits: CodecLimits): XmlViolation | undefined {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let elements = 0;
  let rootClosed = false;

  for (;;) {
    const lt = text.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (depth === 0 && !allWhitespace(text, i, textEnd)) {
      return fail('VIO_XML_MALFORMED', 'text outside the root element', i);
    }
    if (lt === -1) break;
    const next = text.charCodeAt(lt + 1);

    if (next === 0x2f /* / */) {
      const gt = text.indexOf('>', lt);
      if (gt === -1) return fail('VIO_XML_MALFORMED', 'unterminated closing tag', lt);
      depth--;
      if (depth < 0) return fail('VIO_XML_MALFORMED', 'closing tag without an open element', lt);
      if (depth === 0) rootClosed = true;
      i = gt + 1;
      continue;
    }
    if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) return fail('VIO_XML_COMMENT', 'comments are not allowed', lt);
      if (text.startsWith('<![CDATA[', lt))
        return fail('VIO_XML_CDATA', 'CDATA sections are not allowed', lt);
      if (text.slice(lt + 2, lt + 9).toUpperCase() === 'DOCTYPE') {
        return fail('VIO_XML_DOCTYPE', 'DOCTYPE declarations are not allowed', lt);
      }
      return fail('VIO_XML_MALFORMED', 'markup declarations are not allowed', lt);
    }
    if (next === 0x3f /* ? */) {
      return fail('VIO_XML_PI', 'processing instructions (including <?xml ...?>) are not allowed', lt);
    }

    // A start tag.
    if (rootClosed && depth === 0) return fail('VIO_XML_MULTIPLE_ROOTS', 'a second root element', lt);
    let j = nameEnd(text, lt + 1);
    const tag = text.slice(lt + 1, j);
    if (tag === '') return fail('VIO_XML_MALFORMED', 'a "<" that does not start a tag', lt);
    const badTag = checkName(tag, 'element', limits.maxNameLength);
    if (badTag) return fail('VIO_XML_BAD_NAME', badTag, lt);
    if (++elements > limits.maxElements) {
      return fail('VIO_XML_TOO_MANY_NODES', `more than ${limits.maxElements} elements`, lt);
    }

    let attrCount = 0;
    let seen: Set<string> | undefined;
    for (;;) {
      const before = j;
      j = skipWs(text, j);
      if (j >= n) return fail('VIO_XML_MALFORMED', `unterminated tag <${tag}>`, lt);
      const c = text.charCodeAt(j);
      if (c === 0x3e /* > */) {
        if (++depth > limits.maxDepth) {
          return fail('VIO_XML_TOO_DEEP', `elements nested deeper than ${limits.maxDepth}`, lt);
        }
        j++;
        break;
      }
      if (c === 0x2f /* / */) {
        if (text.charCodeAt(j + 1) !== 0x3e) return fail('VIO_XML_MALFORMED', `stray "/" in <${tag}>`, j);
        if (depth + 1 > limits.maxDepth) {
          return fail('VIO_XML_TOO_DEEP', `elements nested deeper than ${limits.maxDepth}`, lt);
        }
        if (depth === 0) rootClosed = true;
        j += 2;
        break;
      }
      if (before === j) return fail('VIO_XML_MALFORMED', `attributes of <${tag}> are not separated`, j);

      const k = nameEnd(text, j);
      const name = text.slice(j, k);
      if (name === '') return fail('VIO_XML_MALFORMED', `unexpected character in <${tag}>`, j);
      const badAttr = checkName(name, 'attribute', limits.maxNameLength);
      if (badAttr) return fail('VIO_XML_BAD_NAME', badAttr, j);
      let v = skipWs(text, k);
      if (text.charCodeAt(v) !== 0x3d /* = */) {
        return fail('VIO_XML_MALFORMED', `attribute "${name}" has no value`, j);
      }
      v = skipWs(text, v + 1);
      const quote = text.charAt(v);
      if (quote !== '"' && quote !== "'") {
        return fail('VIO_XML_MALFORMED', `attribute "${name}" value is not quoted`, v);
      }
      const end = text.indexOf(quote, v + 1);
      if (end === -1) return fail('VIO_XML_MALFORMED', `attribute "${name}" value is not closed`, v);
      if (end - v - 1 > limits.maxAttributeLength) {
        return fail(
          'VIO_XML_ATTR_TOO_LONG',
          `attribute "${name}" longer than ${limits.maxAttributeLength}`,
          j,
        );
      }
      const lessThan = text.indexOf('<', v + 1);
      if (lessThan !== -1 && lessThan < end) {
        return fail('VIO_XML_MALFORMED', `attribute "${name}" value contains "<"`, lessThan);
      }
      if (++attrCount > limits.maxAttributes) {
        return fail('VIO_XML_TOO_MANY_ATTRS', `<${tag}> has more than ${limits.maxAttributes} attributes`, j);
      }
      seen ??= new Set();
      if (seen.has(name)) return fail('VIO_XML_DUPLICATE_ATTR', `attribute "${name}" appears twice`, j);
      seen.add(name);
      j = end + 1;
    }
    i = j;
  }

  if (depth > 0) return fail('VIO_XML_MALFORMED', 'an element is not closed', n);
  if (elements === 0) return fail('VIO_XML_EMPTY', 'the frame holds no element', 0);
  return undefined;
}
