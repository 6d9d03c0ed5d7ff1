// Peers against each other through the in-memory switchboard, for both crypto profiles: every
// content type, receipts, retry receipts, replay and tamper handling, identity change,
// blocking, prekey top-up. Every frame that crosses is schema-checked.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { contentDigest } from '../crypto/content.ts';
import type { CryptoProfileId } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import type { StanzaNode } from '../xml/node.ts';
import { bytesOf, child, el } from '../xml/node.ts';
import { memoryMediaStore } from './media-store.ts';
import { Peer } from './peer.ts';
import { Switchboard } from './testing/switchboard.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url)));
const ALICE = '491701234567@s.whatsapp.net';
const BOB = '1-10853634039893@interop';
const CAROL = '491709876543@s.whatsapp.net';

async function world(profileId: CryptoProfileId, jids: readonly string[] = [ALICE, BOB, CAROL]) {
  const board = new Switchboard();
  const media = memoryMediaStore();
  const profile = getProfile(profileId);
  const peers: Peer[] = [];
  for (const jid of jids) {
    const p = await Peer.create({ jid, profile, link: board.connect(jid), media, preKeyCount: 10 });
    await p.uploadKeys();
    peers.push(p);
  }
  return { board, media, profile, peers };
}

let current: Awaited<ReturnType<typeof world>> | undefined;
afterEach(() => {
  if (!current) return;
  const bad = current.board.frames.filter((f) => f.violations.length > 0);
  expect(bad.map((f) => `${f.text.slice(0, 80)} ${f.violations.map((v) => v.code).join(',')}`)).toEqual([]);
  for (const p of current.peers) expect(p.errors).toEqual([]);
  for (const p of current.peers) p.close();
  current = undefined;
});

describe.each(['signal-pqxdh', 'signal-x3dh'] as const)('peers over %s', (profileId) => {
  async function setup() {
    current = await world(profileId);
    const [alice, bob, carol] = current.peers as [Peer, Peer, Peer];
    return { alice, bob, carol, board: current.board };
  }

  it('exchange text both ways, with server acks and delivery receipts', async () => {
    const { alice, bob } = await setup();
    const first = await alice.send(BOB, { type: 'text', text: 'Hallo Bob 👋' });
    expect((await first.ack).attrs.t).toMatch(/^\d+$/);
    const got = await bob.events.waitFor('message', (e) => e.id === first.id);
    expect(got).toMatchObject({ from: ALICE, content: { type: 'text', text: 'Hallo Bob 👋' } });
    await alice.events.waitFor('receipt', (e) => e.id === first.id && e.receiptType === 'delivery');

    const reply = await bob.send(ALICE, {
      type: 'reply',
      text: 'hi!',
      quotedId: first.id,
      quotedText: 'Hallo Bob 👋',
    });
    const back = await alice.events.waitFor('message', (e) => e.id === reply.id);
    expect(back.content).toEqual({
      type: 'reply',
      text: 'hi!',
      quotedId: first.id,
      quotedText: 'Hallo Bob 👋',
    });
    for (let i = 0; i < 3; i++) await alice.send(BOB, { type: 'text', text: `follow-up ${i}` });
    await bob.events.waitFor('message', (e) => e.content.type === 'text' && e.content.text === 'follow-up 2');
  });

  it('deliver every media type with the file intact, and reactions', async () => {
    const { alice, bob } = await setup();
    const cases = [
      { type: 'image', file: fixture('photo.jpg'), caption: 'a test card', width: 320, height: 240 },
      { type: 'voice', file: fixture('voice.ogg'), seconds: 3 },
      { type: 'audio', file: fixture('voice.ogg'), seconds: 3 },
      { type: 'video', file: fixture('clip.mp4'), caption: 'clip', seconds: 2 },
      { type: 'video', file: fixture('clip.mp4'), gif: true },
      { type: 'document', file: fixture('document.pdf'), fileName: 'document.pdf', pageCount: 1 },
    ] as const;
    for (const c of cases) {
      const sent = await alice.send(BOB, c);
      const got = await bob.events.waitFor('message', (e) => e.id === sent.id);
      expect(contentDigest(got.content)).toEqual(contentDigest(sent.content));
      expect(Buffer.from(got.file ?? []).equals(Buffer.from(c.file))).toBe(true);
    }
    const target = await alice.send(BOB, { type: 'text', text: 'react to me' });
    const r = await bob.send(ALICE, { type: 'reaction', targetId: target.id, fromMe: false, emoji: '❤️' });
    const reaction = await alice.events.waitFor('message', (e) => e.id === r.id);
    expect(reaction.content).toMatchObject({ type: 'reaction', targetId: target.id, emoji: '❤️' });
    const undo = await bob.send(ALICE, { type: 'reaction-revoke', targetId: target.id, fromMe: false });
    const revoke = await alice.events.waitFor('message', (e) => e.id === undo.id);
    expect(revoke.content).toMatchObject({ type: 'reaction-revoke', targetId: target.id });
  });

  it('rejects media whose blob was swapped, with the media code', async () => {
    const { alice, bob } = await setup();
    const sent = await alice.send(BOB, { type: 'document', file: fixture('random.bin'), fileName: 'x.bin' });
    expect(sent.content.type).toBe('document');
    // Corrupt the stored blob before Bob downloads it: the enc hash check fires first.
    const path = sent.content.type === 'document' ? sent.content.media.directPath : '';
    const blob = current?.media.blobs.get(path);
    if (blob) blob[0] = (blob[0] ?? 0) ^ 1;
    const rejected = await bob.events.waitFor('message-rejected', (e) => e.id === sent.id);
    expect(rejected.code).toBe('VIO_MEDIA_ENC_HASH_MISMATCH');
    expect(bob.events.of('message').some((e) => e.id === sent.id)).toBe(false);
  });

  it('aggregate read receipts and send played receipts', async () => {
    const { alice, bob } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await alice.send(BOB, { type: 'text', text: `m${i}` })).id);
    await bob.events.waitFor('message', (e) => e.id === ids[2]);
    bob.markRead(ALICE, ids);
    const read = await alice.events.waitFor('receipt', (e) => e.receiptType === 'read');
    expect(read.ids).toEqual(ids);
    const note = await alice.send(BOB, { type: 'voice', file: fixture('voice.ogg'), seconds: 3 });
    await bob.events.waitFor('message', (e) => e.id === note.id);
    bob.markPlayed(ALICE, [note.id]);
    const played = await alice.events.waitFor('receipt', (e) => e.receiptType === 'played');
    expect(played.ids).toEqual([note.id]);
  });

  it('recover a lost session with a retry receipt and a re-send under the same id', async () => {
    const { alice, bob } = await setup();
    const before = await bob.identity.snapshot();
    const first = await alice.send(BOB, { type: 'text', text: 'one' });
    await bob.events.waitFor('message', (e) => e.id === first.id);
    // Bob answers, so Alice's session is established and her next message is a plain msg.
    const second = await bob.send(ALICE, { type: 'text', text: 'two' });
    await alice.events.waitFor('message', (e) => e.id === second.id);
    // Bob "reinstalls from a backup": his session with Alice is gone; her next msg fails.
    await bob.identity.restore(before);
    await bob.identity.deleteSession(ALICE);
    const third = await alice.send(BOB, { type: 'text', text: 'three' });
    const retry = await bob.events.waitFor('retry-sent', (e) => e.id === third.id);
    expect(retry.count).toBe(1);
    await alice.events.waitFor('resent', (e) => e.id === third.id && e.count === 1);
    const got = await bob.events.waitFor('message', (e) => e.id === third.id);
    expect(got).toMatchObject({ retryCount: 1, content: { type: 'text', text: 'three' } });
  });

  it('stop retrying after five receipts, with keys from the second', async () => {
    const { alice, bob, board } = await setup();
    const doomed = new Set<string>();
    const retryKeys: boolean[] = [];
    board.hook = (to, node) => {
      if (node.tag === 'receipt' && node.attrs.type === 'retry')
        retryKeys.push(child(node, 'keys') !== undefined);
      if (to !== BOB || node.tag !== 'message' || !doomed.has(node.attrs.id ?? '')) return [node];
      return [tamper(node)];
    };
    await establish(alice, bob);
    const id = 'AB0000000000000000000001';
    doomed.add(id);
    await alice.send(BOB, { type: 'text', text: 'never readable' }, { id });
    await alice.events.waitFor('resent', (e) => e.id === id && e.count === 5);
    const fence = await alice.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('retry-sent').map((e) => e.count)).toEqual([1, 2, 3, 4, 5]);
    expect(retryKeys).toEqual([false, true, true, true, true]);
    expect(bob.events.of('message').some((e) => e.id === id)).toBe(false);
  });

  it('show a redelivery once, nack a replay under a new id with 496', async () => {
    const { alice, bob, board } = await setup();
    let replay: StanzaNode | undefined;
    board.hook = (to, node) => {
      if (to === BOB && node.tag === 'message' && node.attrs.id === 'AB0000000000000000000002') {
        replay = node;
        return [node, node]; // the same stanza twice: a redelivery
      }
      return [node];
    };
    await alice.send(BOB, { type: 'text', text: 'once' }, { id: 'AB0000000000000000000002' });
    const fence = await alice.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').filter((e) => e.id === 'AB0000000000000000000002')).toHaveLength(1);
    expect(bob.events.of('message-rejected')).toEqual([]);
    // The same ciphertext under another id is a replay.
    const enc = replay && child(replay, 'enc');
    const bytes = bytesOf(enc);
    if (!enc || !bytes) throw new Error('no captured message');
    alice.sendRaw(
      BOB,
      { type: enc.attrs.type as 'pkmsg' | 'msg', bytes },
      { id: 'AB0000000000000000000003' },
    );
    const rejected = await bob.events.waitFor('message-rejected', (e) => e.id === 'AB0000000000000000000003');
    expect(rejected.code).toBe('VIO_CRYPTO_DUPLICATE');
    const nack = board.frames.find((f) => f.text.includes('error="496"'));
    expect(nack?.text).toContain('AB0000000000000000000003');
  });

  it('reject a tampered message as tampering and recover by retry', async () => {
    const { alice, bob, board } = await setup();
    await establish(alice, bob);
    let once = true;
    board.hook = (to, node) => {
      if (to === BOB && node.tag === 'message' && once && node.attrs.id === 'AB0000000000000000000004') {
        once = false;
        return [tamper(node)];
      }
      return [node];
    };
    await alice.send(BOB, { type: 'text', text: 'tamper me' }, { id: 'AB0000000000000000000004' });
    const rejected = await bob.events.waitFor('message-rejected', (e) => e.id === 'AB0000000000000000000004');
    expect(rejected.code).toBe('VIO_CRYPTO_BAD_MAC');
    const got = await bob.events.waitFor('message', (e) => e.id === 'AB0000000000000000000004');
    expect(got.retryCount).toBe(1);
  });

  it('raise a security notice when a contact comes back with a new identity', async () => {
    const { alice, board } = await setup();
    await alice.send(BOB, { type: 'text', text: 'before' });
    // Bob reinstalls: a new identity under the same address.
    const profile = getProfile(profileId);
    const bob2 = await Peer.create({
      jid: BOB,
      profile,
      link: board.connect(BOB),
      media: memoryMediaStore(),
      seed: 'bob2',
    });
    current?.peers.push(bob2);
    await bob2.uploadKeys();
    board.notifyIdentityChange(BOB, [ALICE]);
    await alice.events.waitFor('identity-changed', (e) => e.from === BOB);
    const after = await alice.send(BOB, { type: 'text', text: 'after' });
    await alice.events.waitFor('security-notice', (e) => e.from === BOB);
    const got = await bob2.events.waitFor('message', (e) => e.id === after.id);
    expect(got.content).toEqual({ type: 'text', text: 'after' });
  });

  it('drop messages from a blocked sender, decided by a fence', async () => {
    const { alice, bob, carol } = await setup();
    await bob.block(ALICE);
    const blocked = await alice.send(BOB, { type: 'text', text: 'can you hear me?' });
    expect((await blocked.ack).attrs.error).toBeUndefined(); // the block is not revealed
    const fence = await carol.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').some((e) => e.id === blocked.id)).toBe(false);
    await bob.unblock(ALICE);
    const again = await alice.send(BOB, { type: 'text', text: 'now?' });
    await bob.events.waitFor('message', (e) => e.id === again.id);
  });

  it('top up one-time prekeys on the low-prekey notification, and show typing', async () => {
    const { alice, bob, board } = await setup();
    const left = board.preKeysLeft(BOB);
    board.notifyLowPreKeys(BOB);
    await bob.events.waitFor('prekeys-uploaded', (e) => e.count === 50, { since: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(board.preKeysLeft(BOB)).toBe(left + 50);
    alice.typing(BOB, 'composing', 'audio');
    alice.typing(BOB, 'paused');
    const paused = await bob.events.waitFor('chatstate', (e) => e.state === 'paused');
    expect(paused.from).toBe(ALICE);
    expect(bob.events.of('chatstate')[0]).toMatchObject({ state: 'composing', media: 'audio' });
  });
});

/** A conversation in both directions, so the next messages are `msg`, not `pkmsg`. */
async function establish(alice: Peer, bob: Peer): Promise<void> {
  const a = await alice.send(BOB, { type: 'text', text: 'establish' });
  await bob.events.waitFor('message', (e) => e.id === a.id);
  const b = await bob.send(ALICE, { type: 'text', text: 'established' });
  await alice.events.waitFor('message', (e) => e.id === b.id);
}

/** Flips a bit of the last byte of the enc payload: in a msg, that is the MAC. */
function tamper(node: StanzaNode): StanzaNode {
  const enc = child(node, 'enc');
  const bytes = bytesOf(enc);
  if (!enc || !bytes) return node;
  const copy = Uint8Array.from(bytes);
  const i = copy.length - 1;
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  return { ...node, content: [el('enc', enc.attrs, copy)] };
}
