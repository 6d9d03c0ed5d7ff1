// A stand-in candidate for the engine's own tests: the harness's Peer behind the driver
// contract, enlisted and logged in over the real socket like an app. It is not the reference
// candidate (an independent app); it lets the engine be tested on its own.

import { createHash } from 'node:crypto';
import type { ViolationCode } from '../../codes.ts';
import type { MessageContent } from '../../crypto/content.ts';
import type { CryptoProfile } from '../../crypto/profile.ts';
import type {
  CandidateDriver,
  ConnectRequest,
  DriverEvent,
  Manifest,
  ReceivedContent,
  RejectReason,
} from '../../driver/contract.ts';
import { DRIVER_CONTRACT_VERSION } from '../../driver/contract.ts';
import type { PeerEvent } from '../../peers/events.ts';
import { httpMediaStore } from '../../peers/http-media.ts';
import { enlist, enlistForm, logIn, newAuthKey } from '../../peers/interop-client.ts';
import { Peer } from '../../peers/peer.ts';
import type { RawLink } from '../../peers/ws-link.ts';
import { connectWsLink } from '../../peers/ws-link.ts';

// Omit over each member of the union, not over the union as a whole.
type Body = DriverEvent extends infer E ? (E extends DriverEvent ? Omit<E, 'seq' | 'at'> : never) : never;

const REASONS: Partial<Record<ViolationCode, RejectReason>> = {
  VIO_CRYPTO_DUPLICATE: 'duplicate',
  VIO_CRYPTO_BAD_MAC: 'tampered',
  VIO_CRYPTO_INVALID_MESSAGE: 'invalid-message',
  VIO_CRYPTO_UNSUPPORTED_VERSION: 'unsupported-version',
  VIO_CRYPTO_NO_SESSION: 'no-session',
  VIO_CRYPTO_MISSING_PREKEY: 'missing-prekey',
  VIO_CONTENT_BAD_PADDING: 'bad-padding',
  VIO_CONTENT_INVALID_PROTOBUF: 'invalid-protobuf',
  VIO_MEDIA_ENC_HASH_MISMATCH: 'media-enc-hash',
  VIO_MEDIA_BAD_MAC: 'media-mac',
  VIO_MEDIA_PLAIN_HASH_MISMATCH: 'media-plain-hash',
};

function received(content: MessageContent, file?: Uint8Array): ReceivedContent {
  switch (content.type) {
    case 'text':
      return { type: 'text', text: content.text };
    case 'reply':
      return { type: 'reply', text: content.text, quotedId: content.quotedId };
    case 'reaction':
      return { type: 'reaction', targetId: content.targetId, emoji: content.emoji };
    case 'reaction-revoke':
      return { type: 'reaction-revoke', targetId: content.targetId };
    case 'revoke':
      return { type: 'revoke', targetId: content.targetId };
    default: {
      const media = {
        sha256: createHash('sha256')
          .update(file ?? new Uint8Array())
          .digest('hex'),
        mimetype: content.media.mimetype,
        size: file?.length ?? 0,
      };
      const caption =
        'caption' in content && content.caption !== undefined ? { caption: content.caption } : {};
      return { type: content.type, media, ...caption };
    }
  }
}

export class PeerCandidate implements CandidateDriver {
  readonly #profile: CryptoProfile;
  readonly #events: DriverEvent[] = [];
  #peer: Peer | undefined;
  #link: RawLink | undefined;
  #waiters: (() => void)[] = [];

  constructor(profile: CryptoProfile) {
    this.#profile = profile;
  }

  #push(body: Body): void {
    this.#events.push({ ...body, seq: this.#events.length + 1, at: Date.now() } as DriverEvent);
    for (const w of this.#waiters.splice(0)) w();
  }

  #map(e: PeerEvent): void {
    switch (e.type) {
      case 'message':
        this.#push({
          type: 'message-received',
          id: e.id,
          from: e.from,
          content: received(e.content, e.file),
        });
        return;
      case 'message-rejected':
        this.#push({ type: 'message-rejected', id: e.id, from: e.from, reason: REASONS[e.code] ?? 'other' });
        return;
      case 'receipt':
        if (e.receiptType !== 'retry')
          this.#push({ type: 'receipt-received', from: e.from, receipt: e.receiptType, ids: e.ids });
        return;
      case 'security-notice':
        this.#push({ type: 'security-notice', jid: e.from });
        return;
      case 'chatstate':
        this.#push({
          type: 'typing',
          from: e.from,
          state: e.state,
          ...(e.media === 'audio' ? { media: 'audio' } : {}),
        });
        return;
      default:
        return;
    }
  }

  #need(): Peer {
    if (!this.#peer) throw new Error('not connected');
    return this.#peer;
  }

  async manifest(): Promise<Manifest> {
    return {
      name: 'peer-candidate',
      version: '0',
      contractVersion: DRIVER_CONTRACT_VERSION,
      cryptoProfile: this.#profile.id,
      features: ['send-media', 'send-voice', 'reactions-send', 'read-receipts-send', 'typing-send'],
    };
  }

  async reset() {
    await this.disconnect();
    this.#events.length = 0;
    return { ok: true as const };
  }

  async connect(req: ConnectRequest) {
    const res = await fetch(req.partner.tokenUrl, {
      method: 'POST',
      body: JSON.stringify({ sub: req.partner.sub }),
    });
    const { token } = (await res.json()) as { token: string };
    const identity = await this.#profile.createIdentity({ preKeyCount: 40 });
    const authKey = newAuthKey();
    const reply = await enlist(req.httpUrl, enlistForm(identity, authKey, token));
    if (reply.status !== 'ok') throw new Error(`enlistment failed: ${reply.reason}`);
    const link = await connectWsLink(req.wsUrl);
    let peer: Peer | undefined;
    peer = await Peer.create({
      jid: reply.login,
      profile: this.#profile,
      identity,
      link,
      media: httpMediaStore(() => (peer as Peer).mediaGrant()),
    });
    peer.events.subscribe((e) => this.#map(e));
    await logIn(link, { jid: reply.login, authKey, token });
    await peer.uploadKeys();
    this.#peer = peer;
    this.#link = link;
    this.#push({ type: 'connection', state: 'connected' });
    return { jid: reply.login };
  }

  async disconnect() {
    this.#peer?.close();
    this.#link?.close();
    this.#peer = undefined;
    this.#link = undefined;
    return { ok: true as const };
  }

  async send(req: Parameters<CandidateDriver['send']>[0]) {
    const c = req.content;
    if (c.type !== 'text' && c.type !== 'reply')
      throw new Error(`peer-candidate sends text only, not ${c.type}`);
    const sent = await this.#need().send(req.to, c);
    sent.ack.then((ack) => {
      if (ack.attrs.error)
        this.#push({ type: 'send-failed', id: sent.id, to: req.to, reason: ack.attrs.error });
      else this.#push({ type: 'message-sent', id: sent.id, to: req.to });
    });
    return { id: sent.id };
  }

  async read(req: Parameters<CandidateDriver['read']>[0]) {
    if (req.type === 'played') this.#need().markPlayed(req.from, req.ids);
    else this.#need().markRead(req.from, req.ids);
    return { ok: true as const };
  }

  async typing(req: Parameters<CandidateDriver['typing']>[0]) {
    this.#need().typing(req.to, req.state, req.media);
    return { ok: true as const };
  }

  async block(req: { jid: string }) {
    await this.#need().block(req.jid);
    return { ok: true as const };
  }

  async unblock(req: { jid: string }) {
    await this.#need().unblock(req.jid);
    return { ok: true as const };
  }

  async events(after: number, waitMs: number) {
    if (this.#events.length <= after && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { events: this.#events.slice(after), last: this.#events.length };
  }
}
