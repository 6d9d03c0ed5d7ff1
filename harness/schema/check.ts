// The whole inbound stanza pipeline: bytes or text in, a node, its kind, its canonical text
// and every violation out. The server runs this on every frame; `interop-cert validate` runs
// it on files; the benchmark measures it.

import type { CodecLimits } from '../xml/limits.ts';
import type { StanzaNode } from '../xml/node.ts';
import { parseStanza } from '../xml/parse.ts';
import { serializeStanza } from '../xml/serialize.ts';
import type { Direction, StanzaKind } from './kinds.ts';
import { classify } from './kinds.ts';
import type { StanzaViolation, ValidateOptions } from './validate.ts';
import { validateStanza } from './validate.ts';

export interface CheckOptions extends ValidateOptions {
  readonly limits?: CodecLimits;
}

export interface CheckResult {
  /** The parsed stanza, when the codec accepted it (schema violations may still follow). */
  readonly node?: StanzaNode;
  readonly kind?: StanzaKind;
  readonly direction?: Direction;
  /** Canonical text of the node: what transcripts record. */
  readonly canonical?: string;
  readonly violations: readonly StanzaViolation[];
}

export function checkFrame(input: string | Uint8Array, options: CheckOptions = {}): CheckResult {
  // The base64 text of each bytes content, as the frame carried it (and the codec found it
  // canonical): the schema's view and the canonical text reuse it instead of encoding again.
  const known = new Map<Uint8Array, string>();
  const parsed = parseStanza(input, options.limits, known);
  if (!parsed.ok) {
    const { code, message, offset } = parsed.violation;
    const pointer = offset === undefined ? '' : `@offset ${offset}`;
    return { violations: [{ code, kind: 'unknown', pointer, message }] };
  }
  const node = parsed.node;
  const c = classify(node);
  const violations = validateStanza(node, { ...options, knownBase64: known }, c);
  const canonical = serializeStanza(node, known);
  if (!c.ok) return { node, canonical, violations };
  return { node, kind: c.kind, direction: options.direction ?? c.direction, canonical, violations };
}
