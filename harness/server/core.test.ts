// The stanza core with peers attached in-process: routing, acks, the mailbox, blocking,
// opt-in, the key directory, identity change, hostile frames and the fault knobs. The real
// sockets and HTTP side have their own tests; the end-to-end test runs all of it together.

import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../crypto/profiles.ts';
import { memoryMediaStore } from '../peers/media-store.ts';
import { Peer } from '../peers/peer.ts';
import { DAY_MS, VirtualClock } from './clock.ts';
import { ServerCore } from './core.ts';
import { nativePair } from './native-link.ts';
import { Transcript } from './transcript.ts';
import type { MediaService, TokenVerifier } from './types.ts';

const ALICE = '491701234567@s.whatsapp.net';
const BOB = '491709876543@s.whatsapp.net';
const CAROL = '491705555555@s.whatsapp.net';

const tokens: TokenVerifier = { verify: async () => ({ ok: false, detail: 'no tokens in this test' }) };
const media: MediaService = {
  grant: () => ({ auth: 'x', ttl: 3600, hosts: ['127.0.0.1:1'] }),
  holder: () => undefined,
  put: () => {},
  get: () => undefined,
};

let core: ServerCore | undefined;
const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  if (!core) return;
  const internal = (core.transcript as Transcript)
    .entries()
    .filter((e) => e.kind === 'event' && e.event === 'internal-error');
  expect(internal).toEqual([]);
  core.stop();
  core = undefined;
});

function world() {
  const clock = new VirtualClock();
  const transcript = new Transcript(clock);
  core = new ServerCore({
    clock,
    transcript,
    tokens,
    media,
    idlePingMs: 0,
    limits: { checkOwnStanzas: true },
  });
  const store = memoryMediaStore();
  let n = 0;
  const attach = async (jid: string, opts: { optedIn?: boolean; seed?: string } = {}) => {
    const { channel, link } = nativePair(`n${++n}`);
    core?.attachNative(channel, jid, opts.optedIn === undefined ? {} : { optedIn: opts.optedIn });
    const peer = await Peer.create({
      jid,
      profile: getProfile('signal-x3dh'),
      link,
      media: store,
      preKeyCount: 8,
      seed: opts.seed ?? jid,
      now: () => clock.now(),
    });
    peers.push(peer);
    return { peer, link };
  };
  return { core: core as ServerCore, clock, transcript, attach };
}

/** Every stanza the server sent must be valid (checkOwnStanzas records any that is not). */
function ownViolations(t: Transcript) {
  return t.entries().filter((e) => e.kind === 'frame' && e.direction === 's2c' && e.violations.length > 0);
}

describe('ServerCore', () => {
  it('routes messages and receipts with server acks, and keeps its own stanzas valid', async () => {
    const { attach, transcript } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const m = await alice.send(BOB, { type: 'text', text: 'hello' });
    const ack = await m.ack;
    expect(ack.attrs).toMatchObject({ class: 'message', id: m.id });
    expect(ack.attrs.t).toMatch(/^\d+$/);
    await bob.events.waitFor('message', (e) => e.id === m.id);
    await alice.events.waitFor('receipt', (e) => e.id === m.id);
    expect(ownViolations(transcript)).toEqual([]);
  });

  it('keeps messages for an offline user and delivers them in order, marked offline, then the marker', async () => {
    const { core, attach } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob, link } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const first = await alice.send(BOB, { type: 'text', text: 'while you are here' });
    await bob.events.waitFor('message', (e) => e.id === first.id);
    // Bob's receipt follows his ack on the same connection: once it arrives, the ack is in.
    await alice.events.waitFor('receipt', (e) => e.id === first.id);
    core.cut(BOB);
    expect(link.closed).toBe(true);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await alice.send(BOB, { type: 'text', text: `offline ${i}` });
      await m.ack; // accepted by the server, so stored before Bob returns
      ids.push(m.id);
    }
    expect(core.mailbox.pending(BOB)).toBe(4);
    // Bob comes back on a new connection with the same keys.
    const { channel, link: link2 } = nativePair('n-back');
    const frames: string[] = [];
    link2.onStanza((n) =>
      frames.push(`${n.tag}${n.attrs.offline ? ' offline' : ''} ${n.attrs.id ?? ''}`.trim()),
    );
    core.attachNative(channel, BOB);
    await new Promise((r) => setTimeout(r, 10));
    expect(frames).toEqual([...ids.map((id) => `message offline ${id}`), 'ib']);
  });

  it('drops expired mail after 30 days of server time', async () => {
    const { core, clock, attach } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    core.cut(BOB);
    await (await alice.send(BOB, { type: 'text', text: 'too late' })).ack;
    clock.advance(30 * DAY_MS + 1000);
    const { channel, link } = nativePair('n-late');
    const frames: string[] = [];
    link.onStanza((n) => frames.push(n.tag));
    core.attachNative(channel, BOB);
    await new Promise((r) => setTimeout(r, 10));
    expect(frames).toEqual(['ib']);
  });

  it('acks a blocked sender normally and drops the message; nacks 403 for users not opted in', async () => {
    const { core, attach, transcript } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    const { peer: carol } = await attach(CAROL);
    for (const p of [alice, bob, carol]) await p.uploadKeys();
    await bob.block(ALICE);
    const blocked = await alice.send(BOB, { type: 'text', text: 'blocked' });
    expect((await blocked.ack).attrs.error).toBeUndefined();
    const fence = await carol.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').map((e) => e.id)).toEqual([fence.id]);
    expect(transcript.entries().some((e) => e.kind === 'event' && e.event === 'dropped-blocked')).toBe(true);
    // Opt-in only guards WhatsApp users against interop senders: make Alice an interop account.
    core.setOptIn(BOB, false);
    core.accounts.set(ALICE, {
      jid: ALICE,
      sub: '1',
      authKey: new Uint8Array(32),
      registrationId: alice.identity.registrationId,
      identityKey: alice.identity.identityKey,
      signedPreKey: alice.identity.keyUpload().signedPreKey,
      enlistedAt: 0,
      lastLoginAt: 0,
    });
    await bob.unblock(ALICE);
    const refused = await alice.send(BOB, { type: 'text', text: 'not opted in' });
    expect((await refused.ack).attrs.error).toBe('403');
  });

  it('hands out each one-time prekey once, then bundles without one, and notifies below 5', async () => {
    const { core, attach } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const b = await alice.fetchBundle(BOB);
      expect(b.preKey).toBeDefined();
      expect(seen.has(b.preKey?.id ?? -1)).toBe(false);
      seen.add(b.preKey?.id ?? -1);
    }
    // Bob topped up on the notification at 4 left (50 new keys); exhaust them all.
    await bob.events.waitFor('prekeys-uploaded', (e) => e.count === 50);
    expect(core.directory.count(BOB)).toBe(50);
    core.exhaustPreKeys(BOB);
    const none = await alice.fetchBundle(BOB);
    expect(none.preKey).toBeUndefined();
    expect(bob.events.of('prekeys-low').length).toBeGreaterThanOrEqual(1);
  });

  it('refuses an upload with a bad signature or a reused prekey id, with a coded event', async () => {
    const { attach, transcript } = world();
    const { peer: alice } = await attach(ALICE);
    await alice.uploadKeys();
    const up = alice.identity.keyUpload();
    const { uploadToNodes } = await import('../crypto/bundle.ts');
    await expect(alice.iq({ xmlns: 'encrypt', type: 'set' }, uploadToNodes(up))).rejects.toThrow(/400/);
    const sig = Uint8Array.from(up.signedPreKey.signature);
    sig[0] = (sig[0] ?? 0) ^ 1;
    const bad = { ...up, preKeys: [], signedPreKey: { ...up.signedPreKey, signature: sig } };
    await expect(alice.iq({ xmlns: 'encrypt', type: 'set' }, uploadToNodes(bad))).rejects.toThrow(/400/);
    const refused = transcript.violations().filter((v) => v.code === 'VIO_KEYS_REFUSED');
    expect(refused).toHaveLength(2);
  });

  it('tells contacts when a user comes back with a new identity', async () => {
    const { attach } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const m = await alice.send(BOB, { type: 'text', text: 'hi' });
    await bob.events.waitFor('message', (e) => e.id === m.id);
    const { peer: bob2 } = await attach(BOB, { seed: 'bob-reinstalled' });
    await bob2.uploadKeys();
    await alice.events.waitFor('identity-changed', (e) => e.from === BOB);
    const after = await alice.send(BOB, { type: 'text', text: 'who are you now?' });
    await alice.events.waitFor('security-notice', (e) => e.from === BOB);
    await bob2.events.waitFor('message', (e) => e.id === after.id);
  });

  it('records hostile frames as violations, answers what it can, and closes after 50', async () => {
    const { attach, transcript } = world();
    const { peer: alice, link } = await attach(ALICE);
    await alice.uploadKeys();
    const answers: string[] = [];
    link.onStanza((n) => answers.push(`${n.tag} ${n.attrs.error ?? n.attrs.code ?? ''}`.trim()));
    const raw = (text: string) => link.rawSend(text);
    raw('<message id="3EB0C4F7A1D2E3F4A5B6C7" to="x" type="text"><enc v="2" type="msg">AA==</enc></message>');
    raw('<receipt id="3EB0C4F7A1D2E3F4A5B6C7" to="491709876543@s.whatsapp.net" type="bogus"/>');
    raw('<!DOCTYPE x><iq/>');
    await new Promise((r) => setTimeout(r, 10));
    expect(answers).toEqual(['ack 487', 'ack 488']);
    for (let i = 0; i < 47; i++) raw('<nonsense/>');
    await new Promise((r) => setTimeout(r, 20));
    expect(answers.at(-1)).toBe('stream-error 400');
    expect(link.closed).toBe(true);
    const codes = transcript.violations().map((v) => v.code);
    expect(codes).toContain('VIO_SCHEMA_BAD_JID');
    expect(codes).toContain('VIO_STANZA_UNKNOWN_KIND');
    expect(codes).toContain('VIO_XML_DOCTYPE');
    expect(codes).toContain('VIO_TRANSPORT_TOO_MANY_VIOLATIONS');
  });

  it('applies delivery faults: drop, duplicate, reorder, tamper', async () => {
    const { core, attach } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const warm = await alice.send(BOB, { type: 'text', text: 'warm' });
    await bob.events.waitFor('message', (e) => e.id === warm.id);
    const back = await bob.send(ALICE, { type: 'text', text: 'back' });
    await alice.events.waitFor('message', (e) => e.id === back.id);

    core.fault(BOB, { kind: 'drop' });
    const dropped = await alice.send(BOB, { type: 'text', text: 'dropped' });
    core.fault(BOB, { kind: 'reorder' });
    const a = await alice.send(BOB, { type: 'text', text: 'a' });
    const b = await alice.send(BOB, { type: 'text', text: 'b' });
    await bob.events.waitFor('message', (e) => e.id === a.id);
    const order = bob.events.of('message').map((e) => e.id);
    expect(order.indexOf(b.id)).toBeLessThan(order.indexOf(a.id));
    expect(order).not.toContain(dropped.id);

    core.fault(BOB, { kind: 'tamper', offset: -1 });
    const t = await alice.send(BOB, { type: 'text', text: 'tampered' });
    const rejected = await bob.events.waitFor('message-rejected', (e) => e.id === t.id);
    expect(rejected.code).toBe('VIO_CRYPTO_BAD_MAC');

    core.fault(BOB, { kind: 'duplicate' });
    const d = await alice.send(BOB, { type: 'text', text: 'twice' });
    const fence = await alice.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').filter((e) => e.id === d.id)).toHaveLength(1);
  });

  it('replays an earlier delivery, and holds deliveries while suspended', async () => {
    const { core, attach, transcript } = world();
    const { peer: alice } = await attach(ALICE);
    const { peer: bob } = await attach(BOB);
    await alice.uploadKeys();
    await bob.uploadKeys();
    const m = await alice.send(BOB, { type: 'text', text: 'once' });
    await bob.events.waitFor('message', (e) => e.id === m.id);
    const replayed = core.replay(BOB);
    expect(replayed?.attrs.id).toBe(m.id);
    const fence = await alice.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').filter((e) => e.id === m.id)).toHaveLength(1);
    const acks = transcript
      .entries()
      .filter(
        (e) =>
          e.kind === 'frame' &&
          e.direction === 'c2s' &&
          e.stanza.startsWith('<ack class="message"') &&
          e.stanza.includes(m.id),
      );
    expect(acks).toHaveLength(2); // the original and the replay were both acked

    core.suspend(BOB);
    const held = [
      await alice.send(BOB, { type: 'text', text: 'h1' }),
      await alice.send(BOB, { type: 'text', text: 'h2' }),
    ];
    await Promise.all(held.map((h) => h.ack));
    await new Promise((r) => setTimeout(r, 20));
    expect(bob.events.of('message').some((e) => held.some((h) => h.id === e.id))).toBe(false);
    expect(core.resume(BOB)).toBe(2);
    await bob.events.waitFor('message', (e) => e.id === held[1]?.id);
    const order = bob.events.of('message').map((e) => e.id);
    expect(order.indexOf(held[0]?.id ?? '')).toBeLessThan(order.indexOf(held[1]?.id ?? ''));
  });
});
