// A minimal in-memory stand-in for the server, for testing peers against each other before and
// apart from the real server: a key directory, message and receipt routing, a blocklist. It
// speaks the same stanzas as the server (every frame is schema-checked by the memory link)
// but keeps no mailbox and has no fault knobs beyond one delivery hook. Not for scenarios.

import { bundleToUserNode, uploadFromNodes } from '../../crypto/bundle.ts';
import type { KeyUpload, PreKeyPublic } from '../../crypto/profile.ts';
import type { StanzaNode } from '../../xml/node.ts';
import { child, childrenOf, el } from '../../xml/node.ts';
import type { FrameRecord, StanzaLink } from '../link.ts';
import { memoryLinkPair } from '../link.ts';

const SERVER = 's.whatsapp.net';

interface Entry {
  upload: KeyUpload;
  preKeys: PreKeyPublic[];
}

/** Decides what is delivered in place of `node` (default: the node itself). */
export type DeliveryHook = (to: string, node: StanzaNode) => readonly StanzaNode[];

export class Switchboard {
  readonly frames: FrameRecord[] = [];
  readonly #links = new Map<string, StanzaLink>();
  readonly #directory = new Map<string, Entry>();
  readonly #blocked = new Map<string, Set<string>>();
  #t = 1_718_000_000;
  hook: DeliveryHook | undefined;

  /** Connects a client for `jid` and returns the link its peer uses. */
  connect(jid: string): StanzaLink {
    const pair = memoryLinkPair(this.frames);
    this.#links.set(jid, pair.server);
    pair.server.onStanza((n) => this.#receive(jid, n));
    return pair.client;
  }

  /** Replaces the identity of `jid` in the directory and tells its contacts (PROFILE.md §5.9). */
  notifyIdentityChange(jid: string, contacts: readonly string[]): void {
    for (const c of contacts) {
      this.#deliver(
        c,
        el('notification', { from: jid, type: 'encrypt', id: `n${this.#tick()}`, t: this.#t }, [
          el('identity'),
        ]),
      );
    }
  }

  /** Sends the low-prekey notification to `jid`. */
  notifyLowPreKeys(jid: string): void {
    const left = this.#directory.get(jid)?.preKeys.length ?? 0;
    this.#deliver(
      jid,
      el('notification', { from: SERVER, type: 'encrypt', id: `n${this.#tick()}`, t: this.#t }, [
        el('count', { value: left }),
      ]),
    );
  }

  preKeysLeft(jid: string): number {
    return this.#directory.get(jid)?.preKeys.length ?? 0;
  }

  #tick(): number {
    this.#t += 1;
    return this.#t;
  }

  #deliver(to: string, node: StanzaNode): void {
    const link = this.#links.get(to);
    if (!link) return;
    for (const n of this.hook ? this.hook(to, node) : [node]) link.send(n);
  }

  #reply(to: string, node: StanzaNode): void {
    this.#links.get(to)?.send(node);
  }

  #receive(from: string, node: StanzaNode): void {
    const id = node.attrs.id ?? '';
    switch (node.tag) {
      case 'iq':
        this.#iq(from, node);
        return;
      case 'message': {
        const to = node.attrs.to ?? '';
        const t = this.#tick();
        this.#reply(from, el('ack', { class: 'message', id, t }));
        if (this.#blocked.get(to)?.has(from)) return; // silently dropped (PROFILE.md §5.11)
        this.#deliver(
          to,
          el('message', { from, id, t, type: node.attrs.type }, node.content as StanzaNode[]),
        );
        return;
      }
      case 'receipt': {
        const to = node.attrs.to ?? '';
        this.#reply(from, el('ack', { class: 'receipt', id, t: this.#t, type: node.attrs.type }));
        const { to: _to, ...attrs } = node.attrs;
        this.#deliver(to, {
          tag: 'receipt',
          attrs: { ...attrs, from, t: String(this.#tick()) },
          ...content(node),
        });
        return;
      }
      case 'chatstate': {
        const { to = '' } = node.attrs;
        this.#deliver(to, el('chatstate', { from }, node.content as StanzaNode[]));
        return;
      }
      default:
        return; // acks, presence: nothing to route here
    }
  }

  #iq(from: string, node: StanzaNode): void {
    const { id = '', xmlns, type } = node.attrs;
    const result = (children?: StanzaNode[]) => el('iq', { id, type: 'result', from: SERVER }, children);
    const error = (code: number, text: string) =>
      el('iq', { id, type: 'error', from: SERVER }, [el('error', { code, text })]);
    if (xmlns === 'encrypt' && type === 'set') {
      const up = uploadFromNodes(node);
      if (!up.ok) {
        this.#reply(from, error(400, up.message));
        return;
      }
      const prev = this.#directory.get(from);
      const preKeys = [...(prev?.preKeys ?? []), ...up.value.preKeys];
      this.#directory.set(from, { upload: up.value, preKeys });
      this.#reply(from, result());
      return;
    }
    if (xmlns === 'encrypt' && type === 'get' && child(node, 'key')) {
      const users: StanzaNode[] = [];
      for (const u of childrenOf(child(node, 'key') ?? el('key'))) {
        const jid = u.attrs.jid ?? '';
        const entry = this.#directory.get(jid);
        if (!entry) {
          this.#reply(from, error(404, `unknown user ${jid}`));
          return;
        }
        const preKey = entry.preKeys.shift(); // each one-time prekey is handed out once
        const { upload } = entry;
        users.push(
          bundleToUserNode(jid, {
            registrationId: upload.registrationId,
            identityKey: upload.identityKey,
            signedPreKey: upload.signedPreKey,
            ...(preKey ? { preKey } : {}),
            ...(upload.kyberPreKey ? { kyberPreKey: upload.kyberPreKey } : {}),
          }),
        );
      }
      this.#reply(from, result([el('list', {}, users)]));
      return;
    }
    if (xmlns === 'blocklist' && type === 'set') {
      const set = this.#blocked.get(from) ?? new Set<string>();
      for (const item of childrenOf(node)) {
        if (item.attrs.action === 'block') set.add(item.attrs.jid ?? '');
        else set.delete(item.attrs.jid ?? '');
      }
      this.#blocked.set(from, set);
      this.#reply(from, result());
      return;
    }
    this.#reply(from, error(501, 'not served by the switchboard'));
    return;
  }
}

function content(node: StanzaNode): { content?: StanzaNode['content'] } {
  return node.content === undefined ? {} : { content: node.content };
}
