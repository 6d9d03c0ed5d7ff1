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

export function toView(node: StanzaNode): StanzaView {
  const view: StanzaView = { tag: node.tag, attrs: { ...node.attrs } };
  const c = node.content;
  if (c === undefined) return view;
  if (isBytes(c)) {
    view.bytes = encodeBase64(c);
    return view;
  }
  const groups: Record<string, StanzaView[]> = {};
  for (const ch of c) {
    const list = groups[ch.tag];
    if (list) list.push(toView(ch));
    else groups[ch.tag] = [toView(ch)];
  }
  view.children = groups;
  return view;
}

/**
 * Turns an ajv instance path over the view (`/children/list/0/children/key/3/attrs/id`) into a
 * stanza path a person reads (`/iq/list/key[3]@id`). Index 0 is left out to keep the common
 * single-child case short: `/message/enc@type`.
 */
export function stanzaPointer(rootTag: string, instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  let out = `/${rootTag}`;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === 'children') {
      const tag = parts[i + 1];
      const idx = parts[i + 2];
      if (tag === undefined) break;
      out += `/${unescapePointer(tag)}`;
      if (idx !== undefined && /^\d+$/.test(idx)) {
        if (idx !== '0') out += `[${idx}]`;
        i += 2;
      } else {
        i += 1;
      }
    } else if (p === 'attrs') {
      const name = parts[i + 1];
      if (name !== undefined) out += `@${unescapePointer(name)}`;
      i += 1;
    } else if (p === 'bytes') {
      out += '#bytes';
    }
  }
  if (extra !== undefined) out += extra;
  return out;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
