// The simulated WhatsApp interop server's stanza core: accounts, login, the key directory,
// routing of messages, receipts and chat states, the mailbox, the blocklist, opt-in, media
// grants, pings, and the fault knobs (docs/PROFILE.md §5). Transports hand it channels; the
// HTTP side hands it enlistments.

import {
  bundleToUserNode,
  kyberPreKeyFromNode,
  signedPreKeyFromNode,
  uploadFromNodes,
} from '../crypto/bundle.ts';
import type { StanzaKind } from '../schema/kinds.ts';
import type { StanzaNode } from '../xml/node.ts';
import { child, childrenOf, el } from '../xml/node.ts';
import { DAY_MS } from './clock.ts';
import type { ConnectionHost, ConnectionLimits } from './connection.ts';
import { Connection, DEFAULT_CONNECTION_LIMITS } from './connection.ts';
import { KeyDirectory } from './directory.ts';
import type { DeliveryFault, DeliveryMatch } from './faults.ts';
import { DeliveryFaults, isMessage } from './faults.ts';
import type { MailKind } from './mailbox.ts';
import { ackKey, Mailbox } from './mailbox.ts';
import type {
  Clock,
  Enlister,
  EnlistFields,
  EnlistResult,
  FrameChannel,
  InteropAccount,
  MediaService,
  TokenVerifier,
  TranscriptSink,
} from './types.ts';

export const SERVER_JID = 's.whatsapp.net';
export const UNENLIST_DAYS = 30;
const CONTACT_DAYS = 30;
/** Stanzas remembered per address for replays. */
const HISTORY = 20;
/** Accepted (sender, id) pairs remembered for duplicate detection; the oldest are forgotten. */
const ACCEPTED_MAX = 100_000;

export interface CoreOptions {
  readonly clock: Clock;
  readonly transcript: TranscriptSink;
  readonly tokens: TokenVerifier;
  readonly media: MediaService;
  readonly limits?: Partial<ConnectionLimits>;
  /** Called when a message is stored for an offline interop user (the push wake-up). */
  readonly onStored?: (to: string) => void;
  /** Server pings after this many ms without a frame; 0 turns pings off. */
  readonly idlePingMs?: number;
  /** A ping unanswered this long closes the connection. */
  readonly pingAnswerMs?: number;
}

interface NativeUser {
  optedIn: boolean;
  name?: string;
}

export class ServerCore implements Enlister {
  readonly clock: Clock;
  readonly transcript: TranscriptSink;
  readonly directory = new KeyDirectory();
  readonly mailbox = new Mailbox();
  readonly deliveryFaults: DeliveryFaults;
  readonly accounts = new Map<string, InteropAccount>();
  readonly natives = new Map<string, NativeUser>();
  readonly #online = new Map<string, Connection>();
  readonly #connections = new Set<Connection>();
  readonly #blocked = new Map<string, Set<string>>();
  readonly #contacts = new Map<string, Map<string, number>>();
  readonly #accepted = new Map<string, number>();
  readonly #logins = new Map<string, number[]>();
  readonly #enlistRefusals: Extract<EnlistResult, { status: 'fail' }>['reason'][] = [];
  readonly #opts: CoreOptions;
  readonly #limits: ConnectionLimits;
  readonly #host: ConnectionHost;
  /** The last stanzas written to each address, for the replay knob. */
  readonly #history = new Map<string, StanzaNode[]>();
  /** Addresses whose deliveries are held (a network partition without a close). */
  readonly #suspended = new Map<string, StanzaNode[]>();
  #ids = 0;
  #ticker: NodeJS.Timeout | undefined;

  constructor(opts: CoreOptions) {
    this.#opts = opts;
    this.clock = opts.clock;
    this.transcript = opts.transcript;
    this.deliveryFaults = new DeliveryFaults(opts.transcript);
    this.#limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
    this.#host = {
      transcript: opts.transcript,
      login: (conn, node) => this.#login(conn, node),
      handle: (conn, node, kind) => this.#handle(conn, node, kind),
      closed: (conn) => this.#closed(conn),
    };
    if ((opts.idlePingMs ?? 30_000) > 0) {
      this.#ticker = setInterval(() => this.#pings(), 1000);
      this.#ticker.unref();
    }
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    for (const c of this.#connections) c.close(1001, 'server stopping');
  }

  // ---- connections ---------------------------------------------------------------------------

  accept(channel: FrameChannel): Connection {
    const conn = new Connection(this.#host, channel, this.#limits);
    this.#connections.add(conn);
    this.transcript.event({
      event: 'open',
      connection: channel.id,
      detail: { remote: channel.remoteAddress },
    });
    return conn;
  }

  /** Attaches a WhatsApp user (a peer) in-process, logged in without enlistment. */
  attachNative(channel: FrameChannel, jid: string, user: Partial<NativeUser> = {}): Connection {
    const native = this.natives.get(jid) ?? { optedIn: true };
    if (user.optedIn !== undefined) native.optedIn = user.optedIn;
    if (user.name !== undefined) native.name = user.name;
    this.natives.set(jid, native);
    const conn = new Connection(this.#host, channel, { ...this.#limits, loginTimeoutMs: 0 });
    this.#connections.add(conn);
    conn.native = true;
    this.#goOnline(conn, jid);
    this.#deliverMailbox(conn, jid);
    return conn;
  }

  isOnline(jid: string): boolean {
    return this.#online.has(jid);
  }

  connectionOf(jid: string): Connection | undefined {
    return this.#online.get(jid);
  }

  #closed(conn: Connection): void {
    this.#connections.delete(conn);
    if (conn.jid && this.#online.get(conn.jid) === conn) {
      this.#online.delete(conn.jid);
      this.mailbox.requeue(conn.jid);
    }
  }

  #goOnline(conn: Connection, jid: string): void {
    const old = this.#online.get(jid);
    if (old && old !== conn) {
      old.streamError(409, 'replaced by a newer connection', 1000);
      this.mailbox.requeue(jid);
    }
    conn.loggedIn(jid);
    this.#online.set(jid, conn);
  }

  // ---- enlistment and login (PROFILE.md §5.1, §5.2) ------------------------------------------

  enlist(fields: EnlistFields, sub: string): EnlistResult {
    const refusal = this.#enlistRefusals.shift();
    if (refusal) return { status: 'fail', reason: refusal, detail: 'refused by the harness (fault knob)' };
    const jid = `1-${sub}@interop`;
    const now = this.clock.now();
    const old = this.accounts.get(jid);
    this.accounts.set(jid, {
      jid,
      sub,
      authKey: fields.authKey,
      registrationId: fields.registrationId,
      identityKey: fields.identityKey,
      signedPreKey: fields.signedPreKey,
      enlistedAt: now,
      lastLoginAt: now,
    });
    if (old) {
      this.directory.reset(jid);
      this.#online.get(jid)?.streamError(409, 're-enlisted', 1000);
      if (!sameBytes(old.identityKey, fields.identityKey)) this.#identityChanged(jid);
    }
    this.transcript.event({ event: 'enlisted', address: jid, detail: { sub, again: old !== undefined } });
    return { status: 'ok', login: jid };
  }

  async #login(conn: Connection, node: StanzaNode): Promise<void> {
    const { jid = '', authkey = '', token = '' } = node.attrs;
    const refuse = (
      reason: number,
      why: string,
      code: 'VIO_SESSION_LOGIN_FAILED' | 'VIO_SESSION_UNENLISTED',
    ) => {
      this.transcript.event({
        event: 'login-failed',
        connection: conn.id,
        address: jid,
        detail: { reason },
        violations: [{ code, message: why }],
      });
      conn.send(el('failure', { reason, text: why }));
      conn.close(1008, `login failed: ${reason}`);
    };
    const now = this.clock.now();
    const recent = (this.#logins.get(jid) ?? []).filter((t) => t > now - 60_000);
    recent.push(now);
    this.#logins.set(jid, recent);
    if (recent.length > this.#limits.loginsPerMinute)
      return refuse(429, 'too many logins', 'VIO_SESSION_LOGIN_FAILED');
    const account = this.accounts.get(jid);
    if (!account) return refuse(401, 'address not enlisted', 'VIO_SESSION_LOGIN_FAILED');
    if (account.lastLoginAt < now - UNENLIST_DAYS * DAY_MS) {
      this.accounts.delete(jid);
      this.directory.reset(jid);
      return refuse(403, 'away 30 days: un-enlisted', 'VIO_SESSION_UNENLISTED');
    }
    if (
      Buffer.from(authkey, 'base64').toString('base64') !== authkey ||
      !sameBytes(Buffer.from(authkey, 'base64'), account.authKey)
    ) {
      return refuse(401, 'authkey differs from the enlisted one', 'VIO_SESSION_LOGIN_FAILED');
    }
    const check = await this.#opts.tokens.verify(token);
    if (!check.ok) return refuse(401, `token: ${check.detail}`, 'VIO_SESSION_LOGIN_FAILED');
    if (`1-${check.sub}@interop` !== jid)
      return refuse(401, 'token sub does not match the address', 'VIO_SESSION_LOGIN_FAILED');
    if (conn.state === 'closed') return;
    account.lastLoginAt = now;
    this.#goOnline(conn, jid);
    conn.send(el('success', { t: this.clock.seconds(), jid }));
    this.transcript.event({ event: 'login', connection: conn.id, address: jid });
    this.#deliverMailbox(conn, jid);
  }

  /** The mailbox, each message marked offline, then the offline marker (PROFILE.md §5.6). */
  #deliverMailbox(conn: Connection, jid: string): void {
    const { entries, expired } = this.mailbox.take(jid, this.clock.now());
    if (expired.length > 0) {
      this.transcript.event({ event: 'mailbox-expired', address: jid, detail: { count: expired.length } });
    }
    for (const e of entries) {
      const node = e.kind === 'message' ? { ...e.node, attrs: { ...e.node.attrs, offline: '1' } } : e.node;
      this.#emit(jid, node);
    }
    conn.send(el('ib', {}, [el('offline', { count: entries.filter((e) => e.kind === 'message').length })]));
  }

  // ---- stanzas -------------------------------------------------------------------------------

  #handle(conn: Connection, node: StanzaNode, kind: StanzaKind): void {
    const me = conn.jid ?? '';
    switch (kind) {
      case 'message':
        return this.#message(conn, me, node);
      case 'receipt.delivery':
      case 'receipt.read':
      case 'receipt.played':
      case 'receipt.retry':
        return this.#receipt(conn, me, node);
      case 'ack':
        return this.#ack(me, node);
      case 'chatstate':
        return this.#chatstate(me, node);
      case 'presence': {
        const native = this.natives.get(me);
        if (native && node.attrs.name) native.name = node.attrs.name;
        return;
      }
      case 'iq.result':
        if (conn.pingPending?.id === node.attrs.id) conn.pingPending = undefined;
        return;
      case 'iq.ping':
        return conn.send(this.#result(node));
      case 'iq.media_conn': {
        const g = this.#opts.media.grant(me);
        return conn.send(
          this.#result(node, [
            el(
              'media_conn',
              { auth: g.auth, ttl: g.ttl },
              g.hosts.map((h) => el('host', { hostname: h })),
            ),
          ]),
        );
      }
      case 'iq.blocklist.get':
        return conn.send(
          this.#result(node, [
            el(
              'list',
              {},
              [...(this.#blocked.get(me) ?? [])].map((jid) => el('item', { jid })),
            ),
          ]),
        );
      case 'iq.blocklist.set': {
        const set = this.#blocked.get(me) ?? new Set<string>();
        for (const item of childrenOf(node)) {
          if (item.attrs.action === 'block') set.add(item.attrs.jid ?? '');
          else set.delete(item.attrs.jid ?? '');
        }
        this.#blocked.set(me, set);
        return conn.send(this.#result(node));
      }
      case 'iq.encrypt.upload':
        return this.#upload(conn, me, node);
      case 'iq.encrypt.count':
        return conn.send(this.#result(node, [el('count', { value: this.directory.count(me) })]));
      case 'iq.encrypt.fetch':
        return this.#fetch(conn, node);
      case 'iq.encrypt.rotate': {
        const rotate = child(node, 'rotate');
        const skey = rotate && child(rotate, 'skey');
        const kyber = rotate && child(rotate, 'kyber');
        if (!skey) return conn.send(this.#error(node, 400, 'no signed prekey'));
        const r = this.directory.rotate(
          me,
          signedPreKeyFromNode(skey),
          kyber ? kyberPreKeyFromNode(kyber) : undefined,
          this.clock.now(),
        );
        if (!r.ok) {
          this.#refusedKeys(conn, r.text);
          return conn.send(this.#error(node, r.code, r.text));
        }
        return conn.send(this.#result(node));
      }
      case 'iq.error':
        return; // a client's answer to a server iq it cannot serve: recorded only
      default:
        // Kinds a client never sends are refused by the connection (wrong direction).
        return;
    }
  }

  #result(iq: StanzaNode, children?: StanzaNode[]): StanzaNode {
    return el('iq', { id: iq.attrs.id, type: 'result', from: SERVER_JID }, children);
  }

  #error(iq: StanzaNode, code: number, text: string): StanzaNode {
    return el('iq', { id: iq.attrs.id, type: 'error', from: SERVER_JID }, [
      el('error', { code, text: text.slice(0, 256) }),
    ]);
  }

  #refusedKeys(conn: Connection, why: string): void {
    this.transcript.event({
      event: 'keys-refused',
      connection: conn.id,
      ...(conn.jid ? { address: conn.jid } : {}),
      violations: [{ code: 'VIO_KEYS_REFUSED', message: why }],
    });
  }

  #upload(conn: Connection, me: string, node: StanzaNode): void {
    const up = uploadFromNodes(node);
    if (!up.ok) {
      this.#refusedKeys(conn, up.message);
      return conn.send(this.#error(node, 400, up.message));
    }
    const account = this.accounts.get(me);
    const r = this.directory.upload(me, up.value, this.clock.now(), account);
    if (!r.ok) {
      this.#refusedKeys(conn, r.text);
      return conn.send(this.#error(node, r.code, r.text));
    }
    conn.send(this.#result(node));
    this.transcript.event({
      event: 'keys-uploaded',
      address: me,
      detail: { preKeys: up.value.preKeys.length },
    });
    if (r.identityChanged) this.#identityChanged(me);
  }

  #fetch(conn: Connection, node: StanzaNode): void {
    const users = childrenOf(child(node, 'key') ?? el('key')).map((u) => u.attrs.jid ?? '');
    const me = conn.jid ?? '';
    for (const jid of users) {
      if (!this.#known(jid) || !this.directory.has(jid)) {
        this.#routeViolation(conn, 'VIO_ROUTE_UNKNOWN_RECIPIENT', `bundle fetch for unknown ${jid}`);
        return conn.send(this.#error(node, 404, `unknown user ${jid}`));
      }
      if (this.#notOptedIn(me, jid)) {
        this.#routeViolation(conn, 'VIO_ROUTE_NOT_OPTED_IN', `bundle fetch for ${jid}, who has not opted in`);
        return conn.send(this.#error(node, 403, 'recipient has not opted in to third-party chats'));
      }
    }
    const list = users.map((jid) => {
      const bundle = this.directory.fetch(jid);
      if (!bundle) throw new Error(`directory lost ${jid}`);
      return bundleToUserNode(jid, bundle);
    });
    conn.send(this.#result(node, [el('list', {}, list)]));
    for (const jid of users) if (this.directory.takeLowNotification(jid)) this.forceLowPreKeys(jid);
  }

  #routeViolation(
    conn: Connection,
    code: 'VIO_ROUTE_UNKNOWN_RECIPIENT' | 'VIO_ROUTE_NOT_OPTED_IN' | 'VIO_ROUTE_UNSUPPORTED',
    message: string,
  ): void {
    this.transcript.event({
      event: 'refused',
      connection: conn.id,
      ...(conn.jid ? { address: conn.jid } : {}),
      violations: [{ code, message }],
    });
  }

  #known(jid: string): boolean {
    return this.accounts.has(jid) || this.natives.has(jid);
  }

  /** An interop user writing to a WhatsApp user who has not opted in (PROFILE.md §5.11). */
  #notOptedIn(from: string, to: string): boolean {
    const native = this.natives.get(to);
    return this.accounts.has(from) && native !== undefined && !native.optedIn;
  }

  #blockedBy(recipient: string, sender: string): boolean {
    return this.#blocked.get(recipient)?.has(sender) ?? false;
  }

  #message(conn: Connection, me: string, node: StanzaNode): void {
    const { id = '', to = '' } = node.attrs;
    const enc = child(node, 'enc');
    const t = this.clock.seconds();
    if (to.endsWith('@g.us') || enc?.attrs.type === 'skmsg') {
      this.#routeViolation(conn, 'VIO_ROUTE_UNSUPPORTED', 'groups are not in the profile');
      return conn.send(el('ack', { class: 'message', id, t, error: 406 }));
    }
    if (!this.#known(to)) {
      this.#routeViolation(conn, 'VIO_ROUTE_UNKNOWN_RECIPIENT', `message to unknown ${to}`);
      return conn.send(el('ack', { class: 'message', id, t, error: 404 }));
    }
    if (this.#notOptedIn(me, to)) {
      this.#routeViolation(conn, 'VIO_ROUTE_NOT_OPTED_IN', `message to ${to}, who has not opted in`);
      return conn.send(el('ack', { class: 'message', id, t, error: 403 }));
    }
    const dupKey = `${me} ${id}`;
    const firstT = this.#accepted.get(dupKey);
    if (firstT !== undefined && enc?.attrs.count === undefined) {
      conn.send(el('ack', { class: 'message', id, t: firstT })); // a duplicate: acked, not routed
      return;
    }
    this.#accepted.set(dupKey, t);
    if (this.#accepted.size > ACCEPTED_MAX) {
      const oldest = this.#accepted.keys().next().value;
      if (oldest !== undefined) this.#accepted.delete(oldest);
    }
    conn.send(el('ack', { class: 'message', id, t }));
    if (this.#blockedBy(to, me)) {
      this.transcript.event({ event: 'dropped-blocked', address: me, detail: { to, id } });
      return;
    }
    this.#touch(me, to);
    const notify = this.natives.get(me)?.name;
    const out = el(
      'message',
      { from: me, id, t, type: node.attrs.type, notify },
      node.content as StanzaNode[],
    );
    this.#route(to, 'message', out);
  }

  #receipt(conn: Connection, me: string, node: StanzaNode): void {
    const { id = '', to = '', type } = node.attrs;
    conn.send(el('ack', { class: 'receipt', id, t: this.clock.seconds(), type }));
    if (!this.#known(to) || this.#blockedBy(to, me)) return;
    const { to: _to, ...attrs } = node.attrs;
    const out: StanzaNode = {
      tag: 'receipt',
      attrs: { ...attrs, from: me, t: String(this.clock.seconds()) },
      ...(node.content === undefined ? {} : { content: node.content }),
    };
    this.#route(to, 'receipt', out);
  }

  #ack(me: string, node: StanzaNode): void {
    const cls = node.attrs.class as MailKind;
    this.mailbox.ack(me, ackKey(cls, node.attrs.id ?? '', node.attrs.to ?? ''));
  }

  #chatstate(me: string, node: StanzaNode): void {
    const to = node.attrs.to ?? '';
    if (!this.isOnline(to) || this.#blockedBy(to, me)) return; // never stored (PROFILE.md §5.10)
    this.#emit(to, el('chatstate', { from: me }, node.content as StanzaNode[]));
  }

  #touch(a: string, b: string): void {
    const now = this.clock.now();
    this.#contact(a, b, now);
    this.#contact(b, a, now);
  }

  #contact(x: string, y: string, now: number): void {
    const m = this.#contacts.get(x);
    if (m) m.set(y, now);
    else this.#contacts.set(x, new Map([[y, now]]));
  }

  /** Delivers now when the recipient is online (kept in flight until acked), else stores. */
  #route(to: string, kind: MailKind, node: StanzaNode): void {
    const now = this.clock.now();
    if (this.isOnline(to)) {
      this.mailbox.sent(to, kind, node, now);
      this.#emit(to, node);
      return;
    }
    this.mailbox.store(to, kind, node, now);
    if (kind === 'message' && this.accounts.has(to)) this.#opts.onStored?.(to);
  }

  /** Writes to the recipient's connection through the delivery faults. */
  #emit(to: string, node: StanzaNode): void {
    // Nothing armed and nothing held back: the delivery goes out as it is.
    if (this.deliveryFaults.idle) return this.#write(to, node);
    for (const d of this.deliveryFaults.apply(to, node)) {
      if (d.delayMs > 0) setTimeout(() => this.#write(to, d.node), d.delayMs).unref();
      else this.#write(to, d.node);
    }
  }

  #write(to: string, node: StanzaNode): void {
    const held = this.#suspended.get(to);
    if (held) {
      held.push(node);
      return;
    }
    const conn = this.#online.get(to);
    if (!conn) return;
    conn.send(node);
    const h = this.#history.get(to) ?? [];
    h.push(node);
    if (h.length > HISTORY) h.shift();
    this.#history.set(to, h);
  }

  #identityChanged(jid: string): void {
    const limit = this.clock.now() - CONTACT_DAYS * DAY_MS;
    for (const [contact, at] of this.#contacts.get(jid) ?? []) {
      if (at < limit) continue;
      this.#route(
        contact,
        'notification',
        el('notification', { from: jid, type: 'encrypt', id: this.#nextId('n'), t: this.clock.seconds() }, [
          el('identity'),
        ]),
      );
    }
    this.transcript.event({ event: 'identity-changed', address: jid });
  }

  #nextId(prefix: string): string {
    this.#ids += 1;
    return `${prefix}.${this.#ids}`;
  }

  #pings(): void {
    const idle = this.#opts.idlePingMs ?? 30_000;
    const answer = this.#opts.pingAnswerMs ?? 10_000;
    const now = Date.now();
    for (const conn of this.#connections) {
      if (conn.state !== 'logged-in' || conn.native) continue;
      if (conn.pingPending && now - conn.pingPending.sentAt > answer) {
        this.transcript.event({
          event: 'ping-timeout',
          connection: conn.id,
          ...(conn.jid ? { address: conn.jid } : {}),
          violations: [
            { code: 'VIO_TRANSPORT_PING_TIMEOUT', message: `no answer to a ping within ${answer} ms` },
          ],
        });
        conn.close(1008, 'ping timeout');
      } else if (!conn.pingPending && now - conn.lastFrameAt > idle) {
        const id = this.#nextId('ping');
        conn.pingPending = { id, sentAt: now };
        conn.send(el('iq', { id, xmlns: 'w:p', type: 'get', from: SERVER_JID }, [el('ping')]));
      }
    }
  }

  // ---- fault knobs (each a method; see docs/SERVER.md) ----------------------------------------

  /** Drops, duplicates, delays, reorders or tampers the next `count` deliveries to `to`. */
  fault(to: string, fault: DeliveryFault, count = 1, match: DeliveryMatch = isMessage): void {
    this.deliveryFaults.arm(to, fault, count, match);
  }

  /** Sends `to` a stanza the harness built, as the server (for replays and hostile input). */
  inject(to: string, node: StanzaNode): void {
    this.transcript.event({
      event: 'fault-fired',
      address: to,
      detail: { kind: 'inject', stanza: node.tag },
    });
    this.#online.get(to)?.send(node);
  }

  /** Writes raw text to `to`'s connection, unchecked (malformed stanzas for the candidate). */
  injectRaw(to: string, text: string): void {
    const conn = this.#online.get(to);
    if (!conn) return;
    this.transcript.event({
      event: 'fault-fired',
      address: to,
      detail: { kind: 'inject-raw', bytes: text.length },
    });
    conn.channel.send(text);
  }

  /**
   * Starts a text frame to `to` that announces `announced` bytes and never finishes it (PROFILE.md
   * §9.1). False when `to` is offline or the transport has no socket to write it on.
   */
  sendOversizedFrame(to: string, announced: number): boolean {
    const conn = this.#online.get(to);
    const write = conn?.channel.sendTruncatedFrame;
    if (!conn || !write) return false;
    this.transcript.event({
      event: 'fault-fired',
      address: to,
      connection: conn.id,
      detail: { kind: 'oversized-frame', announced },
    });
    write.call(
      conn.channel,
      announced,
      Buffer.from(`<message id="oversized" type="text">${'A'.repeat(4096)}`),
    );
    return true;
  }

  /** The next `count` enlistments fail with `reason`, as if the server refused them (§5.1). */
  refuseEnlistments(reason: Extract<EnlistResult, { status: 'fail' }>['reason'], count = 1): void {
    this.#enlistRefusals.push(...Array.from({ length: count }, () => reason));
    this.transcript.event({ event: 'fault-fired', detail: { kind: 'refuse-enlistment', reason, count } });
  }

  /**
   * Breaks one signature of `jid`'s published bundle (a server or network that forges keys):
   * the signed prekey's or the Kyber prekey's. False when there is no such key to break.
   */
  forgeBundleSignature(jid: string, which: 'signed-prekey' | 'kyber-prekey'): boolean {
    const entry = this.directory.get(jid);
    const key = which === 'signed-prekey' ? entry?.signedPreKey : entry?.kyberPreKey;
    if (!entry || !key) return false;
    const signature = Uint8Array.from(key.signature);
    signature[7] = (signature[7] ?? 0) ^ 0x40;
    if (which === 'signed-prekey') entry.signedPreKey = { ...entry.signedPreKey, signature };
    else if (entry.kyberPreKey) entry.kyberPreKey = { ...entry.kyberPreKey, signature };
    this.transcript.event({ event: 'fault-fired', address: jid, detail: { kind: 'forge-signature', which } });
    return true;
  }

  exhaustPreKeys(jid: string): number {
    const n = this.directory.exhaust(jid);
    this.transcript.event({
      event: 'fault-fired',
      address: jid,
      detail: { kind: 'exhaust-prekeys', removed: n },
    });
    return n;
  }

  /** The low-prekey notification, now (PROFILE.md §5.3). */
  forceLowPreKeys(jid: string): void {
    this.#route(
      jid,
      'notification',
      el(
        'notification',
        { from: SERVER_JID, type: 'encrypt', id: this.#nextId('n'), t: this.clock.seconds() },
        [el('count', { value: this.directory.count(jid) })],
      ),
    );
  }

  /** Tells `jid`'s contacts its identity changed (a peer that re-registered uses upload instead). */
  announceIdentityChange(jid: string): void {
    this.#identityChanged(jid);
  }

  /**
   * Delivers again, unchanged, the last stanza the server wrote to `to` that `match` accepts
   * (by default the last message): a replay attack from the network's position.
   */
  replay(to: string, match: DeliveryMatch = isMessage): StanzaNode | undefined {
    const node = [...(this.#history.get(to) ?? [])].reverse().find(match);
    this.transcript.event({
      event: 'fault-fired',
      address: to,
      detail: { kind: 'replay', stanza: node?.tag, id: node?.attrs.id, found: node !== undefined },
    });
    if (node) this.#online.get(to)?.send(node);
    return node;
  }

  /** Holds every delivery to `jid` (the link stays open) until `resume`. */
  suspend(jid: string): void {
    if (!this.#suspended.has(jid)) this.#suspended.set(jid, []);
    this.transcript.event({ event: 'fault-fired', address: jid, detail: { kind: 'suspend' } });
  }

  /** Releases what `suspend` held, in order. */
  resume(jid: string): number {
    const held = this.#suspended.get(jid) ?? [];
    this.#suspended.delete(jid);
    this.transcript.event({
      event: 'fault-fired',
      address: jid,
      detail: { kind: 'resume', released: held.length },
    });
    for (const n of held) this.#write(jid, n);
    return held.length;
  }

  /** Cuts `jid`'s connection without a stream error (a network drop). */
  cut(jid: string): void {
    const conn = this.#online.get(jid);
    if (!conn) return;
    this.transcript.event({ event: 'fault-fired', address: jid, detail: { kind: 'cut' } });
    // 1006 is reserved (never sent); 1001 stands in for the drop, without a stream error.
    conn.close(1001, 'connection cut');
  }

  /** Opt a WhatsApp user in or out of third-party chats. */
  setOptIn(jid: string, optedIn: boolean): void {
    const native = this.natives.get(jid) ?? { optedIn };
    native.optedIn = optedIn;
    this.natives.set(jid, native);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
