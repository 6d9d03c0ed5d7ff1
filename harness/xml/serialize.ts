// StanzaNode -> canonical text XML.
//
// Canonical: attributes in code-unit order of their names, one escaping rule, bytes as padded
// base64, an element without content written as `<tag/>`. The same node always gives the same
// bytes, so transcripts and signatures over them are stable.

import { HarnessError } from '../codes.ts';
import { encodeBase64 } from './base64.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { StanzaNode } from './node.ts';
import { isBytes } from './node.ts';
import { checkName } from './scan.ts';

// Tab, newline and carriage return are written as references: a conforming XML parser
// normalises them to spaces in attribute values, which would break the round trip.
const ATTR_ESCAPE = /[&<>"\t\n\r]/g;
const NEEDS_ESCAPE = /[&<>"\t\n\r]/;
const ATTR_REPLACEMENT: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

export function escapeAttribute(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ATTR_ESCAPE, (c) => ATTR_REPLACEMENT[c] ?? c) : value;
}

/**
 * Bytes whose base64 text is already at hand (the text they were decoded from, checked to be
 * canonical), so serializing them again costs nothing.
 */
export type KnownBase64 = ReadonlyMap<Uint8Array, string>;

/** Serializes a node. Throws HRN_ERR_INVALID_NODE for a node the harness itself built wrongly. */
export function serializeStanza(node: StanzaNode, known?: KnownBase64): string {
  return write(node, known);
}

// Written by concatenation: the engine joins the pieces once, when the text is first read
// whole, with none of the intermediate arrays a list of parts would allocate.
function write(node: StanzaNode, known: KnownBase64 | undefined): string {
  assertName(node.tag, 'element');
  let out = `<${node.tag}`;
  const attrs = node.attrs;
  const names = Object.keys(attrs);
  // Most nodes already hold their attributes in order (the canonical text parses back that
  // way); sorting costs an allocation each time even then.
  if (!isSorted(names)) names.sort();
  for (const name of names) {
    assertName(name, 'attribute');
    out += ` ${name}="${escapeAttribute(attrs[name] ?? '')}"`;
  }
  const c = node.content;
  if (c === undefined || (isBytes(c) && c.byteLength === 0) || (!isBytes(c) && c.length === 0)) {
    return `${out}/>`;
  }
  out += '>';
  if (isBytes(c)) out += known?.get(c) ?? encodeBase64(c);
  else for (const ch of c) out += write(ch, known);
  return `${out}</${node.tag}>`;
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
}

// The names the harness writes are few and the same over and over; each is checked once. The
// set is bounded so that names from hostile input cannot grow it without limit.
const CHECKED_NAMES = new Set<string>();
const CHECKED_NAMES_MAX = 4096;

function assertName(name: string, what: 'element' | 'attribute'): void {
  if (CHECKED_NAMES.has(name)) return;
  const problem = checkName(name, what, DEFAULT_LIMITS.maxNameLength);
  if (problem) throw new HarnessError('HRN_ERR_INVALID_NODE', problem);
  if (CHECKED_NAMES.size < CHECKED_NAMES_MAX) CHECKED_NAMES.add(name);
}
