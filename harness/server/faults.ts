// Delivery faults: the adversary in the server (LESSONS: BoGo's peer with switchable bugs).
// Each knob arms a fault for the next N stanzas the server delivers to one address; the core
// passes every delivery through `apply`, and each fault that fires is written to the
// transcript, so a scenario's evidence shows what the harness did to the wire.

import type { StanzaNode } from '../xml/node.ts';
import { bytesOf, child, el } from '../xml/node.ts';
import type { TranscriptSink } from './types.ts';

export type DeliveryFault =
  | { readonly kind: 'drop' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'reorder' }
  | { readonly kind: 'tamper'; readonly offset: number };

/** Which deliveries a fault applies to; by default, messages. */
export type DeliveryMatch = (node: StanzaNode) => boolean;

export const isMessage: DeliveryMatch = (n) => n.tag === 'message';

interface Armed {
  readonly to: string;
  readonly fault: DeliveryFault;
  readonly match: DeliveryMatch;
  remaining: number;
}

export interface Delivery {
  readonly node: StanzaNode;
  readonly delayMs: number;
}

export class DeliveryFaults {
  readonly #armed: Armed[] = [];
  /** Stanzas held back by `reorder`, per address, released after the next delivery. */
  readonly #held = new Map<string, StanzaNode[]>();
  readonly #transcript: TranscriptSink;

  constructor(transcript: TranscriptSink) {
    this.#transcript = transcript;
  }

  arm(to: string, fault: DeliveryFault, count = 1, match: DeliveryMatch = isMessage): void {
    this.#armed.push({ to, fault, match, remaining: count });
    this.#transcript.event({ event: 'fault-armed', address: to, detail: { ...fault, count } });
  }

  /** Disarms everything (between scenarios). */
  clear(): void {
    this.#armed.length = 0;
    this.#held.clear();
  }

  /** Nothing armed and nothing held: `apply` would hand every delivery back unchanged. */
  get idle(): boolean {
    return this.#armed.length === 0 && this.#held.size === 0;
  }

  get armed(): number {
    return this.#armed.reduce((n, a) => n + a.remaining, 0);
  }

  /** What to deliver, and when, in place of `node`. */
  apply(to: string, node: StanzaNode): Delivery[] {
    const held = this.#held.get(to);
    const armed = this.#armed.find((a) => a.to === to && a.remaining > 0 && a.match(node));
    let out: Delivery[] = [{ node, delayMs: 0 }];
    if (armed) {
      armed.remaining -= 1;
      if (armed.remaining === 0) this.#armed.splice(this.#armed.indexOf(armed), 1);
      this.#transcript.event({
        event: 'fault-fired',
        address: to,
        detail: { ...armed.fault, stanza: node.tag, id: node.attrs.id },
      });
      out = this.#fire(to, node, armed.fault);
    }
    if (held && held.length > 0 && !(armed?.fault.kind === 'reorder')) {
      this.#held.delete(to);
      out = [...out, ...held.map((n) => ({ node: n, delayMs: 0 }))];
    }
    return out;
  }

  #fire(to: string, node: StanzaNode, fault: DeliveryFault): Delivery[] {
    switch (fault.kind) {
      case 'drop':
        return [];
      case 'duplicate':
        return [
          { node, delayMs: 0 },
          { node, delayMs: 0 },
        ];
      case 'delay':
        return [{ node, delayMs: fault.ms }];
      case 'reorder': {
        const list = this.#held.get(to) ?? [];
        list.push(node);
        this.#held.set(to, list);
        return [];
      }
      case 'tamper':
        return [{ node: tamperEnc(node, fault.offset), delayMs: 0 }];
    }
  }
}

/** Flips the low bit of one byte of the `<enc>` payload; a negative offset counts from the end. */
export function tamperEnc(node: StanzaNode, offset: number): StanzaNode {
  const enc = child(node, 'enc');
  const bytes = bytesOf(enc);
  if (!enc || !bytes || bytes.length === 0) return node;
  const copy = Uint8Array.from(bytes);
  const i = ((offset % copy.length) + copy.length) % copy.length;
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  const children = (node.content as readonly StanzaNode[]).map((c) =>
    c === enc ? el('enc', enc.attrs, copy) : c,
  );
  return { ...node, content: children };
}
