// Stanza kinds: which schema a stanza is checked against.
//
// Classification is code, not schema (no oneOf over every kind), so a broken stanza gets the
// one violation that describes it rather than a cascade from every kind it failed to be.

import type { StanzaNode } from '../xml/node.ts';
import { childrenOf } from '../xml/node.ts';

/** c2s: client (candidate or peer) to server; s2c: server to client. */
export type Direction = 'c2s' | 's2c';

export const STANZA_KINDS = [
  'message',
  'ack',
  'receipt.delivery',
  'receipt.read',
  'receipt.played',
  'receipt.retry',
  'iq.encrypt.upload',
  'iq.encrypt.count',
  'iq.encrypt.fetch',
  'iq.encrypt.rotate',
  'iq.blocklist.get',
  'iq.blocklist.set',
  'iq.ping',
  'iq.media_conn',
  'iq.result',
  'iq.error',
  'notification.count',
  'notification.identity',
  'presence',
  'chatstate',
  'login',
  'success',
  'failure',
  'stream-error',
  'ib.offline',
] as const;

export type StanzaKind = (typeof STANZA_KINDS)[number];

export type Classification =
  | { readonly ok: true; readonly kind: StanzaKind; readonly direction: Direction }
  | { readonly ok: false; readonly reason: string };

const has = (n: StanzaNode, a: string): boolean => Object.hasOwn(n.attrs, a);
const firstChildTag = (n: StanzaNode): string | undefined => childrenOf(n)[0]?.tag;
const hasChild = (n: StanzaNode, tag: string): boolean => childrenOf(n).some((c) => c.tag === tag);

/** Stanzas routed between users: a `from` means the server is delivering it. */
const routed = (n: StanzaNode): Direction => (has(n, 'from') ? 's2c' : 'c2s');

const unknown = (reason: string): Classification => ({ ok: false, reason });
const kind = (k: StanzaKind, direction: Direction): Classification => ({ ok: true, kind: k, direction });

export function classify(node: StanzaNode): Classification {
  const a = node.attrs;
  switch (node.tag) {
    case 'message':
      return kind('message', routed(node));
    case 'ack':
      // A client's ack names who it acknowledges (`to`); the server's ack does not.
      return kind('ack', has(node, 'to') ? 'c2s' : 's2c');
    case 'receipt': {
      const dir = routed(node);
      switch (a.type) {
        case undefined:
          return kind('receipt.delivery', dir);
        case 'read':
          return kind('receipt.read', dir);
        case 'played':
          return kind('receipt.played', dir);
        case 'retry':
          return kind('receipt.retry', dir);
        default:
          return unknown(`receipt type "${a.type}" is not in the profile`);
      }
    }
    case 'iq':
      return classifyIq(node);
    case 'notification': {
      if (a.type !== 'encrypt') return unknown(`notification type "${a.type ?? ''}" is not in the profile`);
      if (hasChild(node, 'count')) return kind('notification.count', 's2c');
      if (hasChild(node, 'identity')) return kind('notification.identity', 's2c');
      return unknown('encrypt notification without <count/> or <identity/>');
    }
    case 'presence':
      return kind('presence', routed(node));
    case 'chatstate':
      return kind('chatstate', routed(node));
    case 'login':
      return kind('login', 'c2s');
    case 'success':
      return kind('success', 's2c');
    case 'failure':
      return kind('failure', 's2c');
    case 'stream-error':
      return kind('stream-error', 's2c');
    case 'ib':
      return hasChild(node, 'offline') ? kind('ib.offline', 's2c') : unknown('<ib> without <offline/>');
    default:
      return unknown(`<${node.tag}> is not a stanza of the profile`);
  }
}

function classifyIq(node: StanzaNode): Classification {
  const dir = routed(node);
  const { type, xmlns } = node.attrs;
  if (type === 'result') return kind('iq.result', dir);
  if (type === 'error') return kind('iq.error', dir);
  switch (xmlns) {
    case 'encrypt':
      switch (firstChildTag(node)) {
        case 'registration':
          return kind('iq.encrypt.upload', dir);
        case 'count':
          return kind('iq.encrypt.count', dir);
        case 'key':
          return kind('iq.encrypt.fetch', dir);
        case 'rotate':
          return kind('iq.encrypt.rotate', dir);
        default:
          return unknown(`iq encrypt with first child <${firstChildTag(node) ?? ''}> is not in the profile`);
      }
    case 'blocklist':
      return kind(hasChild(node, 'item') ? 'iq.blocklist.set' : 'iq.blocklist.get', dir);
    case 'w:p':
      return kind('iq.ping', dir);
    case 'w:m':
      return kind('iq.media_conn', dir);
    default:
      return unknown(`iq xmlns "${xmlns ?? ''}" is not in the profile`);
  }
}
