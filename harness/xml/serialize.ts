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
  return value.replace(ATTR_ESCAPE, (c) => ATTR_REPLACEMENT[c] ?? c);
}

/** Serializes a node. Throws HRN_ERR_INVALID_NODE for a node the harness itself built wrongly. */
export function serializeStanza(node: StanzaNode): string {
  const out: string[] = [];
  write(node, out);
  return out.join('');
}

function write(node: StanzaNode, out: string[]): void {
  assertName(node.tag, 'element');
  out.push('<', node.tag);
  const names = Object.keys(node.attrs).sort();
  for (const name of names) {
    assertName(name, 'attribute');
    out.push(' ', name, '="', escapeAttribute(node.attrs[name] ?? ''), '"');
  }
  const c = node.content;
  if (c === undefined || (isBytes(c) && c.byteLength === 0) || (!isBytes(c) && c.length === 0)) {
    out.push('/>');
    return;
  }
  out.push('>');
  if (isBytes(c)) out.push(encodeBase64(c));
  else for (const ch of c) write(ch, out);
  out.push('</', node.tag, '>');
}

function assertName(name: string, what: 'element' | 'attribute'): void {
  const problem = checkName(name, what, DEFAULT_LIMITS.maxNameLength);
  if (problem) throw new HarnessError('HRN_ERR_INVALID_NODE', problem);
}
