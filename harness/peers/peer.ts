// A simulated WhatsApp user: one identity, one device, one crypto profile, talking to the
// server over a stanza link exactly as a client app does (docs/PROFILE.md §5).
//
// A peer is built from explicit options (Complement's lesson): nothing global, nothing
// implicit, so a scenario reads as the list of peers it makes. It behaves as a well-behaved
// WhatsApp client: it acks, receipts, sends retry receipts, re-sends on retry, shows security
// notices. Scenarios drive its outbound side and watch its events.

import type { ViolationCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';
import { bundleFromUserNode, bundleToUserNode, preKeyNode, uploadToNodes } from '../crypto/bundle.ts';
import type { MediaRef, MessageContent } from '../crypto/content.ts';
import type { MediaKind } from '../crypto/media.ts';
import { decryptMedia, encryptMedia, MEDIA_KINDS } from '../crypto/media.ts';
import { decodePlaintext, encodePlaintext } from '../crypto/padding.ts';
import type { Ciphertext, CryptoIdentity, CryptoProfile, PublicBundle } from '../crypto/profile.ts';
import type { StanzaNode } from '../xml/node.ts';
import { bytesOf, child, childrenOf, el } from '../xml/node.ts';
import type { PeerEvent } from './events.ts';
import { EventLog } from './events.ts';
import type { MediaGrant } from './http-media.ts';
import type { IdSource } from './ids.ts';
import { seededIds } from './ids.ts';
import type { StanzaLink } from './link.ts';
import type { MediaStore } from './media-store.ts';

export const SERVER = 's.whatsapp.net';
/** A receiver stops sending retry receipts after this count (PROFILE.md §5.8). */
export const MAX_RETRY = 5;
/** One-time prekeys uploaded on a low-prekey notification (PROFILE.md §5.3). */
export const TOP_UP_BATCH = 50;

interface OutgoingMedia {
  readonly file: Uint8Array;
  readonly mimetype?: string;
}

/** What a scenario asks a peer to send; the peer does the media work and builds the content. */
export type Outgoing =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'reply';
      readonly text: string;
      readonly quotedId: string;
      readonly quotedParticipant?: string;
      readonly quotedText?: string;
    }
  | ({
      readonly type: 'image';
      readonly caption?: string;
      readonly width?: number;
      readonly height?: number;
    } & OutgoingMedia)
  | ({ readonly type: 'voice'; readonly seconds?: number } & OutgoingMedia)
  | ({ readonly type: 'audio'; readonly seconds?: number } & OutgoingMedia)
  | ({
      readonly type: 'video';
      readonly caption?: string;
      readonly seconds?: number;
      readonly gif?: boolean;
    } & OutgoingMedia)
  | ({
      readonly type: 'document';
      readonly fileName?: string;
      readonly title?: string;
      readonly pageCount?: number;
    } & OutgoingMedia)
  | { readonly type: 'reaction'; readonly targetId: string; readonly fromMe: boolean; readonly emoji: string }
  | { readonly type: 'reaction-revoke'; readonly targetId: string; readonly fromMe: boolean }
  | { readonly type: 'revoke'; readonly targetId: string };

export interface PeerOptions {
  /** The peer's address, e.g. 491701234567@s.whatsapp.net. */
  readonly jid: string;
  /** Push name sent with presence. */
  readonly name?: string;
  readonly profile: CryptoProfile;
  /** Keys made beforehand (an interop user enlists with them before it connects). */
  readonly identity?: CryptoIdentity;
  readonly link: StanzaLink;
  readonly media: MediaStore;
  /** Seed of message and iq ids; defaults to the jid, so runs are repeatable. */
  readonly seed?: string;
  /** One-time prekeys uploaded at start (the profile's clients upload 812; tests use fewer). */
  readonly preKeyCount?: number;
  /** Milliseconds to wait for an iq result before giving up. */
  readonly iqTimeoutMs?: number;
  /** Send delivery receipts for messages it shows (default true). */
  readonly deliveryReceipts?: boolean;
  /** Send retry receipts when a message cannot be decrypted (default true). */
  readonly retryReceipts?: boolean;
  readonly now?: () => number;
}

interface SentMessage {
  readonly to: string;
  readonly plaintext: Uint8Array;
  readonly attrs: Record<string, string>;
  readonly encAttrs: Record<string, string>;
  resends: number;
}

interface PendingIq {
  readonly resolve: (n: StanzaNode) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface SendResult {
  readonly id: string;
  /** The server's ack (or nack, with `error`). */
  readonly ack: Promise<StanzaNode>;
  readonly content: MessageContent;
}

export class Peer {
  readonly jid: string;
  readonly events = new EventLog();
  readonly identity: CryptoIdentity;
  readonly #opts: PeerOptions;
  readonly #ids: IdSource;
  readonly #pendingIq = new Map<string, PendingIq>();
  readonly #pendingAck = new Map<string, (n: StanzaNode) => void>();
  readonly #sent = new Map<string, SentMessage>();
  /** Retry receipts sent per received message id. */
  readonly #retries = new Map<string, number>();
  /** Message ids already shown, per sender, so a redelivery is not shown twice. */
  readonly #seen = new Set<string>();
  readonly #unsubscribe: () => void;
  /** Session work runs one piece at a time: a retry that drops a session must not interleave
   *  with a send that is using it. Iq results and acks bypass it, so awaiting one inside never
   *  deadlocks. */
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(opts: PeerOptions, identity: CryptoIdentity) {
    this.#opts = opts;
    this.jid = opts.jid;
    this.identity = identity;
    this.#ids = seededIds(opts.seed ?? opts.jid);
    this.#unsubscribe = opts.link.onStanza((n) => {
      this.#receive(n).catch((e: unknown) => this.#fail(e));
    });
  }

  static async create(opts: PeerOptions): Promise<Peer> {
    const identity =
      opts.identity ?? (await opts.profile.createIdentity({ preKeyCount: opts.preKeyCount ?? 20 }));
    return new Peer(opts, identity);
  }

  /** Errors inside stanza handling are harness bugs: keep them, never swallow them. */
  readonly errors: Error[] = [];
  #fail(e: unknown): void {
    this.errors.push(e instanceof Error ? e : new Error(String(e)));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #now(): number {
    return Math.floor((this.#opts.now?.() ?? Date.now()) / 1000);
  }

  #send(node: StanzaNode): void {
    this.#opts.link.send(node);
  }

  close(): void {
    this.#unsubscribe();
    for (const p of this.#pendingIq.values()) {
      clearTimeout(p.timer);
      p.reject(new HarnessError('HRN_ERR_INTERNAL', 'peer closed with an iq pending'));
    }
    this.#pendingIq.clear();
  }

  // ---- iq ------------------------------------------------------------------------------------

  /** Sends an iq (id filled in) and resolves with the result, or rejects on an error result. */
  iq(attrs: Record<string, string>, content?: readonly StanzaNode[]): Promise<StanzaNode> {
    const id = this.#ids.stanzaId();
    const ms = this.#opts.iqTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pendingIq.delete(id);
        reject(new Error(`TIMEOUT: no answer to iq ${attrs.xmlns ?? ''} ${id} within ${ms} ms`));
      }, ms);
      this.#pendingIq.set(id, { resolve, reject, timer });
      this.#send(el('iq', { ...attrs, id, to: SERVER }, content));
    });
  }

  /** Uploads identity, signed prekey and one-time prekeys (PROFILE.md §5.3). */
  async uploadKeys(): Promise<void> {
    const upload = this.identity.keyUpload();
    await this.iq({ xmlns: 'encrypt', type: 'set' }, uploadToNodes(upload));
    this.events.push({ type: 'prekeys-uploaded', count: upload.preKeys.length });
  }

  /** Media credentials: the media_conn iq (PROFILE.md §5.13). */
  async mediaGrant(): Promise<MediaGrant> {
    const result = await this.iq({ xmlns: 'w:m', type: 'set' }, [el('media_conn')]);
    const conn = child(result, 'media_conn');
    const ttl = Number(conn?.attrs.ttl ?? 0);
    return {
      auth: conn?.attrs.auth ?? '',
      hosts: childrenOf(conn ?? el('media_conn')).map((h) => h.attrs.hostname ?? ''),
      // Renew a minute early, in wall time: the grant's ttl counts on the server's clock.
      expiresAt: Date.now() + Math.max(0, ttl - 60) * 1000,
    };
  }

  async fetchBundle(jid: string): Promise<PublicBundle> {
    const result = await this.iq({ xmlns: 'encrypt', type: 'get' }, [el('key', {}, [el('user', { jid })])]);
    const user = childrenOf(child(result, 'list') ?? el('list')).find((u) => u.attrs.jid === jid);
    if (!user) throw new HarnessError('HRN_ERR_INTERNAL', `no bundle for ${jid} in the key fetch result`);
    const bundle = bundleFromUserNode(user);
    if (!bundle.ok) throw new HarnessError('HRN_ERR_INTERNAL', `bundle for ${jid}: ${bundle.message}`);
    return bundle.value;
  }

  async #ensureSession(jid: string): Promise<void> {
    if (await this.identity.hasSession(jid)) return;
    await this.#buildSession(jid, await this.fetchBundle(jid));
  }

  async #buildSession(jid: string, bundle: PublicBundle): Promise<void> {
    const known = await this.identity.knownIdentity(jid);
    if (known && !equal(known, bundle.identityKey)) {
      // A new identity seen in a bundle: show the notice, then accept it (PROFILE.md §5.9).
      this.events.push({ type: 'security-notice', from: jid });
      await this.identity.trustIdentity(jid, bundle.identityKey);
    }
    const r = await this.identity.processBundle(jid, bundle);
    if (!r.ok) throw new HarnessError('HRN_ERR_INTERNAL', `session with ${jid}: ${r.code} ${r.message}`);
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Builds the content (encrypting and uploading media), encrypts and sends it. */
  async send(to: string, what: Outgoing, options: { id?: string } = {}): Promise<SendResult> {
    const { content, stanzaType, mediatype } = await this.#prepare(to, what);
    const id = options.id ?? this.#ids.messageId();
    const plaintext = encodePlaintext(content);
    const attrs: Record<string, string> = { id, to, type: stanzaType };
    const encAttrs: Record<string, string> = mediatype ? { mediatype } : {};
    this.#sent.set(id, { to, plaintext, attrs, encAttrs, resends: 0 });
    const ack = this.#awaitAck(id);
    await this.#serial(async () => {
      await this.#ensureSession(to);
      const ct = await this.identity.encrypt(to, plaintext);
      this.#send(messageNode(attrs, encAttrs, ct));
    });
    return { id, ack, content };
  }

  /**
   * Encrypts and sends content the scenario built itself (a media reference to a blob it
   * corrupted, a reply to an unknown id...), with the stanza type and mediatype it chooses.
   */
  async sendContent(
    to: string,
    content: MessageContent,
    stanza: { type?: string; mediatype?: string; id?: string; padding?: number } = {},
  ): Promise<SendResult> {
    const id = stanza.id ?? this.#ids.messageId();
    const plaintext = encodePlaintext(content, stanza.padding);
    const attrs: Record<string, string> = { id, to, type: stanza.type ?? 'text' };
    const encAttrs: Record<string, string> = stanza.mediatype ? { mediatype: stanza.mediatype } : {};
    this.#sent.set(id, { to, plaintext, attrs, encAttrs, resends: 0 });
    const ack = this.#awaitAck(id);
    await this.#serial(async () => {
      await this.#ensureSession(to);
      this.#send(messageNode(attrs, encAttrs, await this.identity.encrypt(to, plaintext)));
    });
    return { id, ack, content };
  }

  /** Encrypts raw plaintext bytes (no padding, no protobuf) for `to`: for malformed-content scenarios. */
  async sendPlaintextBytes(
    to: string,
    plaintext: Uint8Array,
    stanza: { type?: string; id?: string } = {},
  ): Promise<string> {
    const id = stanza.id ?? this.#ids.messageId();
    await this.#serial(async () => {
      await this.#ensureSession(to);
      this.#send(
        messageNode({ id, to, type: stanza.type ?? 'text' }, {}, await this.identity.encrypt(to, plaintext)),
      );
    });
    return id;
  }

  /** Sends a prepared ciphertext as is: for scenarios that need exact control of the bytes. */
  sendRaw(
    to: string,
    ct: Ciphertext,
    attrs: { id?: string; type?: string; mediatype?: string } = {},
  ): string {
    const id = attrs.id ?? this.#ids.messageId();
    const encAttrs: Record<string, string> = attrs.mediatype ? { mediatype: attrs.mediatype } : {};
    this.#send(messageNode({ id, to, type: attrs.type ?? 'text' }, encAttrs, ct));
    return id;
  }

  #awaitAck(id: string): Promise<StanzaNode> {
    return new Promise((resolve) => this.#pendingAck.set(id, resolve));
  }

  async #prepare(
    to: string,
    what: Outgoing,
  ): Promise<{ content: MessageContent; stanzaType: string; mediatype?: string }> {
    const ts = this.#opts.now?.() ?? Date.now();
    switch (what.type) {
      case 'text':
        return { content: { type: 'text', text: what.text }, stanzaType: 'text' };
      case 'reply': {
        const { type: _t, ...rest } = what;
        return { content: { type: 'reply', ...rest }, stanzaType: 'text' };
      }
      case 'reaction':
        return {
          content: {
            type: 'reaction',
            targetId: what.targetId,
            targetJid: to,
            fromMe: what.fromMe,
            emoji: what.emoji,
            senderTimestampMs: ts,
          },
          stanzaType: 'reaction',
        };
      case 'reaction-revoke':
        return {
          content: {
            type: 'reaction-revoke',
            targetId: what.targetId,
            targetJid: to,
            fromMe: what.fromMe,
            senderTimestampMs: ts,
          },
          stanzaType: 'reaction',
        };
      case 'revoke':
        return {
          content: { type: 'revoke', targetId: what.targetId, targetJid: to, fromMe: true },
          stanzaType: 'text',
        };
      case 'image': {
        const media = await this.#upload(what, 'image');
        return {
          content: {
            type: 'image',
            media,
            ...opt({ caption: what.caption, width: what.width, height: what.height }),
          },
          stanzaType: 'media',
          mediatype: 'image',
        };
      }
      case 'voice': {
        const media = await this.#upload(what, 'ptt');
        return {
          content: { type: 'voice', media, ...opt({ seconds: what.seconds }) },
          stanzaType: 'media',
          mediatype: 'ptt',
        };
      }
      case 'audio': {
        const media = await this.#upload(what, 'audio');
        return {
          content: { type: 'audio', media, ...opt({ seconds: what.seconds }) },
          stanzaType: 'media',
          mediatype: 'audio',
        };
      }
      case 'video': {
        const kind: MediaKind = what.gif ? 'gif' : 'video';
        const media = await this.#upload(what, kind);
        return {
          content: {
            type: 'video',
            media,
            ...opt({ caption: what.caption, seconds: what.seconds, gifPlayback: what.gif }),
          },
          stanzaType: 'media',
          mediatype: kind,
        };
      }
      case 'document': {
        const media = await this.#upload(what, 'document');
        return {
          content: {
            type: 'document',
            media,
            ...opt({ fileName: what.fileName, title: what.title, pageCount: what.pageCount }),
          },
          stanzaType: 'media',
          mediatype: 'document',
        };
      }
    }
  }

  async #upload(what: OutgoingMedia, kind: MediaKind): Promise<MediaRef> {
    const info = MEDIA_KINDS[kind];
    if (!info.uploadType) throw new HarnessError('HRN_ERR_INTERNAL', `${kind} is not uploaded`);
    const enc = encryptMedia(what.file, kind);
    const up = await this.#opts.media.upload(info.uploadType, enc.blob, enc.fileEncSha256);
    return {
      mimetype: what.mimetype ?? info.mimetype,
      fileSha256: enc.fileSha256,
      fileEncSha256: enc.fileEncSha256,
      fileLength: enc.fileLength,
      mediaKey: enc.mediaKey,
      directPath: up.directPath,
      url: up.url,
    };
  }

  /** A read receipt for one or more messages from `from` (the first id leads, PROFILE.md §5.7). */
  markRead(from: string, ids: readonly string[]): void {
    this.#receipt(from, ids, 'read');
  }

  /** A played receipt for voice notes. */
  markPlayed(from: string, ids: readonly string[]): void {
    this.#receipt(from, ids, 'played');
  }

  #receipt(to: string, ids: readonly string[], type: 'read' | 'played'): void {
    const [first, ...rest] = ids;
    if (first === undefined) return;
    const list =
      rest.length > 0
        ? [
            el(
              'list',
              {},
              rest.map((id) => el('item', { id })),
            ),
          ]
        : undefined;
    this.#send(el('receipt', { id: first, to, type }, list));
  }

  typing(to: string, state: 'composing' | 'paused', media?: 'audio'): void {
    this.#send(el('chatstate', { to }, [el(state, state === 'composing' && media ? { media } : {})]));
  }

  presence(type: 'available' | 'unavailable'): void {
    this.#send(el('presence', { type, name: this.#opts.name }));
  }

  async block(jid: string): Promise<void> {
    await this.iq({ xmlns: 'blocklist', type: 'set' }, [el('item', { jid, action: 'block' })]);
  }

  async unblock(jid: string): Promise<void> {
    await this.iq({ xmlns: 'blocklist', type: 'set' }, [el('item', { jid, action: 'unblock' })]);
  }

  // ---- receiving -----------------------------------------------------------------------------

  async #receive(node: StanzaNode): Promise<void> {
    switch (node.tag) {
      case 'iq':
        return this.#onIq(node);
      case 'ack':
        return this.#onAck(node);
      case 'message':
        return this.#serial(() => this.#onMessage(node));
      case 'receipt':
        return this.#serial(() => this.#onReceipt(node));
      case 'notification':
        return this.#serial(() => this.#onNotification(node));
      case 'chatstate': {
        const state = childrenOf(node)[0];
        if (state && (state.tag === 'composing' || state.tag === 'paused')) {
          this.events.push({
            type: 'chatstate',
            from: node.attrs.from ?? '',
            state: state.tag,
            ...opt({ media: state.attrs.media }),
          });
        }
        return;
      }
      case 'presence':
        this.events.push({ type: 'presence', from: node.attrs.from ?? '', presence: node.attrs.type ?? '' });
        return;
      default:
        return; // unknown kinds are ignored, as a client must (PROFILE.md §4)
    }
  }

  #onIq(node: StanzaNode): void {
    const { id = '', type } = node.attrs;
    if (type === 'get' && node.attrs.xmlns === 'w:p') {
      this.#send(el('iq', { id, type: 'result', to: SERVER }));
      return;
    }
    const pending = this.#pendingIq.get(id);
    if (!pending) return;
    this.#pendingIq.delete(id);
    clearTimeout(pending.timer);
    if (type === 'result') pending.resolve(node);
    else {
      const err = child(node, 'error');
      pending.reject(new Error(`iq ${id} failed: ${err?.attrs.code ?? '?'} ${err?.attrs.text ?? ''}`.trim()));
    }
  }

  #onAck(node: StanzaNode): void {
    const id = node.attrs.id ?? '';
    if (node.attrs.class === 'message') {
      if (node.attrs.error) this.events.push({ type: 'nack', id, error: node.attrs.error });
      const resolve = this.#pendingAck.get(id);
      if (resolve) {
        this.#pendingAck.delete(id);
        resolve(node);
      }
    }
  }

  #ack(node: StanzaNode, error?: string): void {
    const { id = '', from = '' } = node.attrs;
    this.#send(el('ack', { class: 'message', id, to: from, ...(error ? { error } : {}) }));
  }

  async #onMessage(node: StanzaNode): Promise<void> {
    const { id = '', from = '' } = node.attrs;
    const enc = child(node, 'enc');
    const bytes = bytesOf(enc);
    const encType = enc?.attrs.type;
    if (!enc || !bytes || (encType !== 'pkmsg' && encType !== 'msg')) {
      this.#ack(node, '489');
      this.#reject(id, from, 'VIO_CRYPTO_INVALID_MESSAGE', `unsupported enc type ${encType ?? '(none)'}`);
      return;
    }
    const key = `${from} ${id}`;
    const ct: Ciphertext = { type: encType, bytes };
    let plain = await this.identity.decrypt(from, ct);
    if (!plain.ok && plain.code === 'VIO_CRYPTO_UNTRUSTED_IDENTITY') {
      // PROFILE.md §5.9: show the notice, then accept messages under the new identity.
      const inspected = this.#opts.profile.inspect(ct);
      const newIdentity = inspected.ok ? inspected.value.identityKey : undefined;
      if (newIdentity) {
        this.events.push({ type: 'security-notice', from });
        await this.identity.trustIdentity(from, newIdentity);
        plain = await this.identity.decrypt(from, ct);
      }
    }
    if (!plain.ok) {
      if (plain.code === 'VIO_CRYPTO_DUPLICATE') {
        // A redelivery of something already shown is acked plainly; a replay is nacked 496.
        this.#ack(node, this.#seen.has(key) ? undefined : '496');
        if (!this.#seen.has(key)) this.#reject(id, from, plain.code, plain.message);
        return;
      }
      if (plain.code === 'VIO_CRYPTO_UNSUPPORTED_VERSION') {
        this.#ack(node, '490');
        this.#reject(id, from, plain.code, plain.message);
        return;
      }
      this.#ack(node);
      this.#reject(id, from, plain.code, plain.message);
      await this.#sendRetry(node, id, from);
      return;
    }
    const decoded = decodePlaintext(plain.value);
    if (!decoded.ok) {
      this.#ack(node, '491');
      this.#reject(id, from, decoded.code, decoded.message);
      return;
    }
    const content = decoded.content;
    let file: Uint8Array | undefined;
    if ('media' in content) {
      const got = await this.#download(content, id, from);
      if (got === undefined) {
        this.#ack(node);
        return;
      }
      file = got;
    }
    this.#ack(node);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const count = enc.attrs.count;
    this.events.push({
      type: 'message',
      id,
      from,
      t: Number(node.attrs.t ?? 0),
      content,
      offline: node.attrs.offline === '1',
      ...opt({ file, retryCount: count === undefined ? undefined : Number(count) }),
    });
    if (this.#opts.deliveryReceipts !== false) this.#send(el('receipt', { id, to: from }));
  }

  async #download(
    content: Extract<MessageContent, { media: MediaRef }>,
    id: string,
    from: string,
  ): Promise<Uint8Array | undefined> {
    const kind: MediaKind =
      content.type === 'voice'
        ? 'ptt'
        : content.type === 'video' && content.gifPlayback
          ? 'gif'
          : (content.type as 'image' | 'audio' | 'video' | 'document');
    const blob = await this.#opts.media.download(content.media.directPath);
    if (!blob) {
      this.#reject(id, from, 'VIO_MEDIA_TRUNCATED', `no blob at ${content.media.directPath}`);
      return undefined;
    }
    const r = decryptMedia(blob, {
      kind,
      mediaKey: content.media.mediaKey,
      fileEncSha256: content.media.fileEncSha256,
      fileSha256: content.media.fileSha256,
      fileLength: content.media.fileLength,
    });
    if (!r.ok) {
      this.#reject(id, from, r.code, r.message);
      return undefined;
    }
    return r.plaintext;
  }

  #reject(id: string, from: string, code: ViolationCode, message: string): void {
    this.events.push({ type: 'message-rejected', id, from, code, message });
  }

  async #sendRetry(node: StanzaNode, id: string, from: string): Promise<void> {
    if (this.#opts.retryReceipts === false) return;
    const count = (this.#retries.get(`${from} ${id}`) ?? 0) + 1;
    if (count > MAX_RETRY) return;
    this.#retries.set(`${from} ${id}`, count);
    const upload = this.identity.keyUpload();
    const reg = new Uint8Array(4);
    new DataView(reg.buffer).setUint32(0, this.identity.registrationId);
    const children: StanzaNode[] = [
      el('retry', { count, id, t: node.attrs.t ?? String(this.#now()), v: '1' }),
      el('registration', {}, reg),
    ];
    if (count > 1) {
      // A one-time prekey made for this retry and never uploaded (PROFILE.md §5.8).
      const [fresh] = await this.identity.generatePreKeys(1);
      const keys = [
        el('type', {}, Uint8Array.of(0x05)),
        el('identity', {}, this.identity.identityKey),
        ...(fresh ? [preKeyNode(fresh)] : []),
        ...childrenOf(bundleToUserNode(this.jid, { ...upload })).filter(
          (c) => c.tag === 'skey' || c.tag === 'kyber',
        ),
      ];
      children.push(el('keys', {}, keys));
    }
    this.#send(el('receipt', { id, to: from, type: 'retry' }, children));
    this.events.push({ type: 'retry-sent', id, to: from, count });
  }

  async #onReceipt(node: StanzaNode): Promise<void> {
    const { id = '', from = '', type } = node.attrs;
    this.#send(el('ack', { class: 'receipt', id, to: from, ...(type ? { type } : {}) }));
    const receiptType = type === undefined ? 'delivery' : (type as 'read' | 'played' | 'retry');
    const listed = childrenOf(child(node, 'list') ?? el('list')).map((i) => i.attrs.id ?? '');
    const retry = child(node, 'retry');
    const retryCount = retry?.attrs.count === undefined ? undefined : Number(retry.attrs.count);
    this.events.push({
      type: 'receipt',
      id,
      from,
      receiptType,
      ids: [id, ...listed],
      ...opt({ retryCount }),
    });
    if (receiptType === 'retry' && retryCount !== undefined) await this.#onRetry(node, id, from, retryCount);
  }

  /** Re-sends a message after a retry receipt (PROFILE.md §5.8 points 3 to 5). */
  async #onRetry(node: StanzaNode, id: string, from: string, count: number): Promise<void> {
    const sent = this.#sent.get(id);
    if (!sent || sent.to !== from || sent.resends >= MAX_RETRY) return;
    sent.resends += 1;
    await this.identity.deleteSession(from);
    const keys = child(node, 'keys');
    const registration = child(node, 'registration');
    let bundle: PublicBundle | undefined;
    if (keys && registration) {
      const read = bundleFromUserNode(el('user', { jid: from }, [registration, ...childrenOf(keys)]));
      if (!read.ok) return; // unverifiable keys: ignore the receipt
      bundle = read.value;
    }
    await this.#buildSession(from, bundle ?? (await this.fetchBundle(from)));
    const ct = await this.identity.encrypt(from, sent.plaintext);
    this.#send(messageNode(sent.attrs, { ...sent.encAttrs, count: String(count) }, ct));
    this.events.push({ type: 'resent', id, to: from, count });
  }

  async #onNotification(node: StanzaNode): Promise<void> {
    const { id = '', from = '' } = node.attrs;
    this.#send(el('ack', { class: 'notification', id, to: from, type: 'encrypt' }));
    if (child(node, 'identity')) {
      await this.identity.deleteSession(from);
      this.events.push({ type: 'identity-changed', from });
      return;
    }
    const count = child(node, 'count');
    if (count) {
      this.events.push({ type: 'prekeys-low', count: Number(count.attrs.value ?? 0) });
      const fresh = await this.identity.generatePreKeys(TOP_UP_BATCH);
      const upload = this.identity.keyUpload();
      await this.iq({ xmlns: 'encrypt', type: 'set' }, uploadToNodes({ ...upload, preKeys: fresh }));
      this.events.push({ type: 'prekeys-uploaded', count: fresh.length });
    }
  }
}

function messageNode(
  attrs: Record<string, string>,
  encAttrs: Record<string, string>,
  ct: Ciphertext,
): StanzaNode {
  return el('message', attrs, [el('enc', { v: '2', type: ct.type, ...encAttrs }, ct.bytes)]);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Drops undefined values, so optional fields stay absent under exactOptionalPropertyTypes. */
function opt<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export type { PeerEvent };
