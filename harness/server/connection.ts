// One client connection: frame limits, the pipeline on every inbound frame, login gating,
// violations and their answers (docs/PROFILE.md §2, §5.2, §9.2). Nothing a client sends can
// throw out of here: every frame ends as a recorded stanza, a recorded violation, or a close.

import type { ViolationCode } from '../codes.ts';
import { checkFrame } from '../schema/check.ts';
import { STANZA_FORMATS } from '../schema/formats.ts';
import type { StanzaKind } from '../schema/kinds.ts';
import type { StanzaNode } from '../xml/node.ts';
import { el } from '../xml/node.ts';
import { serializeStanza } from '../xml/serialize.ts';
import type { FrameChannel, TranscriptSink } from './types.ts';

export interface ConnectionLimits {
  readonly maxStanzaBytes: number;
  readonly maxViolations: number;
  /** Frames in any one second; 0 turns the flood check off (benchmarks). */
  readonly maxFramesPerSecond: number;
  /** Milliseconds to send <login> after the upgrade; 0 turns it off. */
  readonly loginTimeoutMs: number;
  /** Check the server's own stanzas too, recording HRN_ERR_INTERNAL for any that breaks the profile. */
  readonly checkOwnStanzas: boolean;
  /** Logins per address in any minute of server time (PROFILE.md §5.2); more are refused 429. */
  readonly loginsPerMinute: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxStanzaBytes: 1024 * 1024,
  maxViolations: 50,
  maxFramesPerSecond: 200,
  loginTimeoutMs: 20_000,
  checkOwnStanzas: false,
  loginsPerMinute: 10,
};

export type ConnectionState = 'connected' | 'logged-in' | 'closed';

/** What a connection needs from the server core. */
export interface ConnectionHost {
  readonly transcript: TranscriptSink;
  login(conn: Connection, node: StanzaNode): Promise<void>;
  handle(conn: Connection, node: StanzaNode, kind: StanzaKind): Promise<void> | void;
  closed(conn: Connection): void;
}

interface Violation {
  readonly code: ViolationCode;
  readonly pointer: string;
  readonly message: string;
}

const RAW_LIMIT = 2048;
const ID_ATTR = /^\s*<([A-Za-z_][\w.-]*)\b[^>]*?\sid\s*=\s*(["'])([^"'<>&]{1,64})\2/;

export class Connection {
  readonly channel: FrameChannel;
  state: ConnectionState = 'connected';
  /** The address logged in on this connection. */
  jid: string | undefined;
  /** A WhatsApp user attached in-process by the harness (no login). */
  native = false;
  lastFrameAt = Date.now();
  pingPending: { id: string; sentAt: number } | undefined;
  readonly #host: ConnectionHost;
  readonly #limits: ConnectionLimits;
  #violations = 0;
  #frameTimes: number[] = [];
  /** Frames that arrived while another was being handled, in order. */
  readonly #held: { readonly data: Buffer; readonly isBinary: boolean }[] = [];
  /** A frame is being handled: synchronously, or awaiting (a login). */
  #busy = false;
  #loginTimer: NodeJS.Timeout | undefined;

  constructor(host: ConnectionHost, channel: FrameChannel, limits: ConnectionLimits) {
    this.#host = host;
    this.channel = channel;
    this.#limits = limits;
    // Frames are handled one at a time, in order, even when a handler awaits (login). A frame
    // is handled as it arrives when nothing is in the way, without a promise per frame.
    channel.onFrame((data, isBinary) => {
      if (this.#busy) this.#held.push({ data, isBinary });
      else this.#handle(data, isBinary);
    });
    channel.onClose((code, reason) => this.#closed(code, reason));
    if (limits.loginTimeoutMs > 0) {
      this.#loginTimer = setTimeout(() => {
        if (this.state !== 'connected') return;
        this.#violation('VIO_SESSION_LOGIN_TIMEOUT', `no <login> within ${limits.loginTimeoutMs} ms`);
        this.close(1008, 'login timeout');
      }, limits.loginTimeoutMs);
      this.#loginTimer.unref();
    }
  }

  get id(): string {
    return this.channel.id;
  }

  /** Marks the connection logged in as `jid`. */
  loggedIn(jid: string): void {
    this.jid = jid;
    this.state = 'logged-in';
    if (this.#loginTimer) clearTimeout(this.#loginTimer);
  }

  send(node: StanzaNode): void {
    if (this.state === 'closed') return;
    const text = serializeStanza(node);
    const violations = this.#limits.checkOwnStanzas ? ownViolations(text) : [];
    this.#host.transcript.frame({
      direction: 's2c',
      connection: this.id,
      ...(this.jid ? { address: this.jid } : {}),
      stanza: text,
      bytes: Buffer.byteLength(text),
      violations,
    });
    this.channel.send(text);
  }

  /** `<stream-error>` then a close (PROFILE.md §2.4). */
  streamError(code: number, text: string, closeCode: number): void {
    this.send(el('stream-error', { code, text }));
    this.close(closeCode, text);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.channel.close(code, reason);
    this.#closed(code, reason);
  }

  #closed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.#loginTimer) clearTimeout(this.#loginTimer);
    this.#host.transcript.event({
      event: 'close',
      connection: this.id,
      ...(this.jid ? { address: this.jid } : {}),
      detail: { code, reason },
    });
    this.#host.closed(this);
  }

  #internal(e: unknown): void {
    this.#host.transcript.event({
      event: 'internal-error',
      connection: this.id,
      detail: { error: e instanceof Error ? (e.stack ?? e.message) : String(e) },
    });
  }

  #violation(code: ViolationCode, message: string): void {
    this.#host.transcript.event({
      event: 'violation',
      connection: this.id,
      ...(this.jid ? { address: this.jid } : {}),
      violations: [{ code, message }],
    });
  }

  #handle(data: Buffer, isBinary: boolean): void {
    for (let next: { data: Buffer; isBinary: boolean } | undefined = { data, isBinary }; next; ) {
      this.#busy = true;
      let waiting: Promise<void> | undefined;
      try {
        waiting = this.#frame(next.data, next.isBinary);
      } catch (e) {
        this.#internal(e);
      }
      if (waiting) {
        waiting
          .catch((e: unknown) => this.#internal(e))
          .then(() => {
            const held = this.#held.shift();
            if (held) this.#handle(held.data, held.isBinary);
            else this.#busy = false;
          });
        return;
      }
      next = this.#held.shift();
    }
    this.#busy = false;
  }

  /** Handles one frame; returns a promise only when the handling awaits something. */
  #frame(data: Buffer, isBinary: boolean): Promise<void> | undefined {
    if (this.state === 'closed') return;
    this.lastFrameAt = Date.now();
    if (this.#flooded()) {
      this.#record(data, [
        { code: 'VIO_TRANSPORT_FLOOD', pointer: '', message: 'too many frames in one second' },
      ]);
      this.streamError(429, 'too many frames', 1008);
      return;
    }
    if (isBinary) {
      this.#record(data, [
        { code: 'VIO_TRANSPORT_BINARY_FRAME', pointer: '', message: 'binary frames are not used' },
      ]);
      this.close(1003, 'binary frame');
      return;
    }
    if (data.byteLength > this.#limits.maxStanzaBytes) {
      this.#record(data, [
        {
          code: 'VIO_XML_TOO_LARGE',
          pointer: '',
          message: `frame of ${data.byteLength} bytes over the stanza limit`,
        },
      ]);
      this.streamError(413, 'stanza too large', 1009);
      return;
    }
    const checked = checkFrame(data);
    let violations: readonly Violation[] = checked.violations;
    if (violations.some((v) => v.code === 'VIO_XML_INVALID_UTF8')) {
      this.#record(data, violations);
      this.close(1007, 'invalid UTF-8');
      return;
    }
    if (checked.node && checked.direction === 's2c') {
      // A client stanza never carries `from` (PROFILE.md §5.2): whatever the schema says about
      // it as a server stanza, it is in the wrong direction.
      violations = [
        {
          code: 'VIO_STANZA_WRONG_DIRECTION',
          pointer: `/${checked.node.tag}`,
          message: `a client sent ${checked.kind ?? 'a server stanza'} (only the server sends it, or it carries from)`,
        },
      ];
    }
    this.#record(data, violations, checked.canonical);
    if (violations.length > 0) {
      this.#answerBadFrame(data, checked.node, violations[0]?.code ?? 'VIO_XML_MALFORMED');
      this.#count();
      return;
    }
    const node = checked.node;
    const kind = checked.kind;
    if (!node || !kind) return;
    if (kind === 'login') {
      if (this.state === 'logged-in') {
        this.#violation('VIO_SESSION_LOGIN_TWICE', 'a second <login> on a logged-in connection');
        this.streamError(400, 'already logged in', 1008);
        return;
      }
      return this.#host.login(this, node);
    }
    if (this.state !== 'logged-in') {
      this.#violation('VIO_SESSION_NOT_LOGGED_IN', `<${node.tag}> before <login>`);
      this.streamError(400, 'login first', 1008);
      return;
    }
    return this.#host.handle(this, node, kind) ?? undefined;
  }

  #flooded(): boolean {
    const max = this.#limits.maxFramesPerSecond;
    if (max <= 0) return false;
    const now = Date.now();
    this.#frameTimes.push(now);
    while (this.#frameTimes.length > 0 && (this.#frameTimes[0] ?? 0) <= now - 1000) this.#frameTimes.shift();
    return this.#frameTimes.length > max;
  }

  #record(data: Buffer, violations: readonly Violation[], canonical?: string): void {
    this.#host.transcript.frame({
      direction: 'c2s',
      connection: this.id,
      ...(this.jid ? { address: this.jid } : {}),
      stanza: canonical ?? rawText(data),
      bytes: data.byteLength,
      violations,
    });
  }

  #count(): void {
    this.#violations += 1;
    if (this.#violations >= this.#limits.maxViolations) {
      this.#violation(
        'VIO_TRANSPORT_TOO_MANY_VIOLATIONS',
        `${this.#violations} violations on one connection`,
      );
      this.streamError(400, 'too many violations', 1008);
    }
  }

  /** §9.2: answer 487/488 when the root tag and id can still be read, else nothing. */
  #answerBadFrame(data: Buffer, node: StanzaNode | undefined, code: ViolationCode): void {
    if (this.state !== 'logged-in') return;
    const tag = node?.tag ?? ID_ATTR.exec(rawText(data, 512))?.[1];
    const id = node?.attrs.id ?? ID_ATTR.exec(rawText(data, 512))?.[3];
    // Echo only an id the profile allows: a hostile id must not make the server's own answer
    // invalid (or not XML at all, with control characters in it).
    if (!tag || !id || !STANZA_FORMATS['stanza-id'].validate(id)) return;
    const error = code.startsWith('VIO_STANZA_') ? 488 : 487;
    if (tag === 'message' || tag === 'receipt') this.send(el('ack', { class: tag, id, error }));
    else if (tag === 'iq')
      this.send(el('iq', { id, type: 'error', from: 's.whatsapp.net' }, [el('error', { code: error })]));
  }
}

/** The start of a frame that did not parse, for the transcript: never the whole of a 1 MiB frame. */
function rawText(data: Buffer, limit = RAW_LIMIT): string {
  const head = data.subarray(0, limit).toString('utf8');
  return data.byteLength > limit ? `${head}…(${data.byteLength} bytes)` : head;
}

function ownViolations(text: string): Violation[] {
  return checkFrame(text, { direction: 's2c' }).violations.map((v) => ({
    code: v.code,
    pointer: v.pointer,
    message: `HRN_ERR_INTERNAL: the server sent an invalid stanza: ${v.message}`,
  }));
}
