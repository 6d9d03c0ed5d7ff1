// The stanza node model every part of the harness shares.
//
// A stanza is an element with attributes and either child elements or bytes. The profile's
// text form carries bytes as base64 inside the element; the model holds the decoded bytes,
// so nothing downstream ever handles base64 twice.

export interface StanzaNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  /** Children, bytes, or nothing (an empty element such as `<ping/>`). */
  readonly content?: readonly StanzaNode[] | Uint8Array;
}

export function isBytes(content: StanzaNode['content']): content is Uint8Array {
  return content instanceof Uint8Array;
}

export function childrenOf(node: StanzaNode): readonly StanzaNode[] {
  const c = node.content;
  return c === undefined || isBytes(c) ? [] : c;
}

export function child(node: StanzaNode, tag: string): StanzaNode | undefined {
  return childrenOf(node).find((c) => c.tag === tag);
}

export function bytesOf(node: StanzaNode | undefined): Uint8Array | undefined {
  const c = node?.content;
  return c !== undefined && isBytes(c) ? c : undefined;
}

/** Builds a node; a convenience for tests, peers and fixtures. */
export function el(
  tag: string,
  attrs: Record<string, string | number | undefined> = {},
  content?: readonly StanzaNode[] | Uint8Array,
): StanzaNode {
  const clean: Record<string, string> = {};
  for (const k of Object.keys(attrs)) {
    const v = attrs[k];
    if (v !== undefined) clean[k] = String(v);
  }
  return content === undefined ? { tag, attrs: clean } : { tag, attrs: clean, content };
}
