// The JSON view of a stanza that the stanza schemas describe.
//
// Children are grouped by tag, so a schema says "exactly one <enc>" with `maxItems` and
// "no other child" with `additionalProperties: false`, instead of an `anyOf` over positions
// whose failures are unreadable. Order within a tag is kept; order across tags is not part of
// the profile. Bytes appear as canonical base64, so formats can check their decoded length.

import { encodeBase64 } from '../xml/base64.ts';
import type { StanzaNode } from '../xml/node.ts';
import { isBytes } from '../xml/node.ts';

export interface StanzaView {
  tag: string;
  attrs: Record<string, string>;
  children?: Record<string, StanzaView[]>;
  bytes?: string;
}

/** `known`: base64 text already at hand for some bytes (from the parse), not encoded again. */
export function toView(node: StanzaNode, known?: ReadonlyMap<Uint8Array, string>): StanzaView {
  const view: StanzaView = { tag: node.tag, attrs: { ...node.attrs } };
  const c = node.content;
  if (c === undefined) return view;
  if (isBytes(c)) {
    view.bytes = known?.get(c) ?? encodeBase64(c);
    return view;
  }
  const groups: Record<string, StanzaView[]> = {};
  for (const ch of c) {
    const list = groups[ch.tag];
    if (list) list.push(toView(ch, known));
    else groups[ch.tag] = [toView(ch, known)];
  }
  view.children = groups;
  return view;
}

/**
 * Turns an ajv instance path over the view (`/children/list/0/children/key/3/attrs/id`) into a
 * stanza path a person reads (`/iq/list/key[3]@id`). Index 0 is left out to keep the common
 * single-child case short: `/message/enc@type`.
 */
export function stanzaPointer(rootTag: string, instancePath: string): string {
  // Stryker disable next-line MethodExpression: the empty segment before the first '/' matches no branch below.
  const parts = instancePath.split('/').slice(1).values();
  let out = `/${rootTag}`;
  for (const p of parts) {
    if (p === 'children') {
      const tag = parts.next().value;
      if (tag === undefined) break;
      out += `/${unescapePointer(tag)}`;
      // No index: the error is about the whole group of <tag> children (too many of them).
      const idx = parts.next().value;
      if (idx === undefined) break;
      if (idx !== '0') out += `[${idx}]`;
    } else if (p === 'attrs') {
      const name = parts.next().value;
      if (name !== undefined) out += `@${unescapePointer(name)}`;
    } else if (p === 'bytes') {
      out += '#bytes';
    }
  }
  return out;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
