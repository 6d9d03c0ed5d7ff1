// The whole server over real sockets: a third-party user enlists over HTTP, logs in on the
// WebSocket, uploads keys and talks with WhatsApp users; media goes through the server's HTTP
// media routes; offline delivery, blocking, opt-in and identity change end to end.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { contentDigest } from '../crypto/content.ts';
import type { CryptoIdentity } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import { httpMediaStore } from '../peers/http-media.ts';
import { enlist, enlistForm, logIn, newAuthKey } from '../peers/interop-client.ts';
import { Peer } from '../peers/peer.ts';
import type { RawLink } from '../peers/ws-link.ts';
import { connectWsLink } from '../peers/ws-link.ts';
import type { RunningServer } from './server.ts';
import { startServer } from './server.ts';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url)));
const ALICE = '491701234567@s.whatsapp.net';
const CAROL = '491705555555@s.whatsapp.net';
const SUB = '10853634039893';
const BOB = `1-${SUB}@interop`;
const x3dh = getProfile('signal-x3dh');

let server: RunningServer | undefined;
const links: RawLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  if (!server) return;
  const bad = server.transcript
    .entries()
    .filter(
      (e) =>
        (e.kind === 'event' && e.event === 'internal-error') ||
        (e.kind === 'frame' && e.direction === 's2c' && e.violations.length > 0),
    );
  expect(bad).toEqual([]);
  await server.stop();
  server = undefined;
});

/** An interop user: enlist over HTTP, connect the socket, log in, as a third-party app does. */
async function interopUser(s: RunningServer, identity?: CryptoIdentity) {
  const id = identity ?? (await x3dh.createIdentity({ preKeyCount: 40 }));
  const authKey = newAuthKey();
  const reply = await enlist(s.httpUrl, enlistForm(id, authKey, await s.partner.issueToken(SUB)));
  expect(reply).toEqual({ status: 'ok', login: BOB });
  const connect = async () => {
    const link = await connectWsLink(s.wsUrl);
    links.push(link);
    let self: Peer | undefined;
    const media = httpMediaStore(() => (self as Peer).mediaGrant());
    self = await Peer.create({
      jid: BOB,
      profile: x3dh,
      identity: id,
      link,
      media,
      now: () => s.clock.now(),
    });
    await logIn(link, { jid: BOB, authKey, token: await s.partner.issueToken(SUB) });
    return { peer: self, link };
  };
  return { identity: id, connect };
}

describe('server over real sockets', () => {
  it('enlists, logs in, uploads keys and exchanges every content type both ways', async () => {
    server = await startServer({ seed: 'e2e', limits: { checkOwnStanzas: true } });
    const alice = await server.attachPeer({ jid: ALICE, profile: x3dh, name: 'Alice' });
    const { connect } = await interopUser(server);
    const { peer: bob } = await connect();
    await bob.uploadKeys();

    const hello = await alice.send(BOB, { type: 'text', text: 'Hallo aus WhatsApp' });
    const got = await bob.events.waitFor('message', (e) => e.id === hello.id);
    expect(got.content).toEqual({ type: 'text', text: 'Hallo aus WhatsApp' });
    await alice.events.waitFor('receipt', (e) => e.id === hello.id && e.receiptType === 'delivery');

    const media = [
      { type: 'image', file: fixture('photo.jpg'), caption: 'photo', width: 320, height: 240 },
      { type: 'voice', file: fixture('voice.ogg'), seconds: 3 },
      { type: 'video', file: fixture('clip.mp4'), seconds: 2 },
      { type: 'document', file: fixture('document.pdf'), fileName: 'document.pdf' },
    ] as const;
    for (const [from, to, toJid] of [
      [alice, bob, BOB],
      [bob, alice, ALICE],
    ] as const) {
      for (const m of media) {
        const sent = await from.send(toJid, m);
        const rcv = await to.events.waitFor('message', (e) => e.id === sent.id);
        expect(contentDigest(rcv.content)).toEqual(contentDigest(sent.content));
        expect(Buffer.from(rcv.file ?? []).equals(Buffer.from(m.file))).toBe(true);
      }
    }
    const reply = await bob.send(ALICE, { type: 'reply', text: 'got it', quotedId: hello.id });
    await alice.events.waitFor('message', (e) => e.id === reply.id);
    const like = await alice.send(BOB, { type: 'reaction', targetId: reply.id, fromMe: false, emoji: '👍' });
    await bob.events.waitFor('message', (e) => e.id === like.id);
    bob.markRead(ALICE, [hello.id, like.id]);
    const read = await alice.events.waitFor('receipt', (e) => e.receiptType === 'read');
    expect(read.ids).toEqual([hello.id, like.id]);
  });

  it('delivers the mailbox in order at the next login, then the offline marker; pushes when stored', async () => {
    server = await startServer({ seed: 'e2e-offline' });
    const alice = await server.attachPeer({ jid: ALICE, profile: x3dh });
    const { connect } = await interopUser(server);
    const first = await connect();
    await first.peer.uploadKeys();
    const warm = await alice.send(BOB, { type: 'text', text: 'warm' });
    await first.peer.events.waitFor('message', (e) => e.id === warm.id);
    await alice.events.waitFor('receipt', (e) => e.id === warm.id);
    first.peer.close();
    first.link.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.core.isOnline(BOB)).toBe(false);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await alice.send(BOB, { type: 'text', text: `while away ${i}` });
      await m.ack;
      ids.push(m.id);
    }
    const pushes = server.transcript.entries().filter((e) => e.kind === 'event' && e.event === 'push');
    expect(pushes).toHaveLength(3);
    const again = await connect();
    for (const id of ids) await again.peer.events.waitFor('message', (e) => e.id === id);
    const got = again.peer.events.of('message');
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(got.every((e) => e.offline)).toBe(true);
  });

  it('refuses a bad login with a coded failure, and nacks messages to users who have not opted in', async () => {
    server = await startServer({ seed: 'e2e-refusals' });
    await server.attachPeer({ jid: CAROL, profile: x3dh, optedIn: false });
    const { connect } = await interopUser(server);
    const { peer: bob } = await connect();
    await bob.uploadKeys();
    await expect(bob.fetchBundle(CAROL)).rejects.toThrow(/403/);
    const link = await connectWsLink(server.wsUrl);
    links.push(link);
    await expect(
      logIn(link, { jid: BOB, authKey: newAuthKey(), token: await server.partner.issueToken(SUB) }),
    ).rejects.toThrow(/login failed: 401/);
    const codes = server.transcript.violations().map((v) => v.code);
    expect(codes).toContain('VIO_ROUTE_NOT_OPTED_IN');
    expect(codes).toContain('VIO_SESSION_LOGIN_FAILED');
  });

  it('tells a WhatsApp user when the interop user re-enlists with a new identity', async () => {
    server = await startServer({ seed: 'e2e-identity' });
    const alice = await server.attachPeer({ jid: ALICE, profile: x3dh });
    const { connect } = await interopUser(server);
    const { peer: bob } = await connect();
    await bob.uploadKeys();
    const m = await bob.send(ALICE, { type: 'text', text: 'hi' });
    await alice.events.waitFor('message', (e) => e.id === m.id);
    // Reinstall: new keys, enlisted again under the same partner user.
    const again = await interopUser(server);
    await alice.events.waitFor('identity-changed', (e) => e.from === BOB);
    const { peer: bob2 } = await again.connect();
    await bob2.uploadKeys();
    const after = await alice.send(BOB, { type: 'text', text: 'new phone?' });
    await alice.events.waitFor('security-notice', (e) => e.from === BOB);
    await bob2.events.waitFor('message', (e) => e.id === after.id);
  });

  it('issues partner tokens at tokenUrl that enlistment accepts, and refuses a bad sub', async () => {
    server = await startServer({ seed: 'e2e-token' });
    const url = server.tokenUrl ?? '';
    const ask = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await ask({ sub: '5550001' });
    const { token } = (await ok.json()) as { token: string };
    const identity = await x3dh.createIdentity({ preKeyCount: 1 });
    expect(await enlist(server.httpUrl, enlistForm(identity, newAuthKey(), token))).toEqual({
      status: 'ok',
      login: '1-5550001@interop',
    });
    expect((await ask({ sub: 'nope' })).status).toBe(400);
    expect((await ask({})).status).toBe(400);
  });

  it('hides a block from the blocked sender and drops its messages, decided by a fence', async () => {
    server = await startServer({ seed: 'e2e-block' });
    const alice = await server.attachPeer({ jid: ALICE, profile: x3dh });
    const carol = await server.attachPeer({ jid: CAROL, profile: x3dh });
    const { connect } = await interopUser(server);
    const { peer: bob } = await connect();
    await bob.uploadKeys();
    await bob.block(ALICE);
    const blocked = await alice.send(BOB, { type: 'text', text: 'are you there?' });
    expect((await blocked.ack).attrs.error).toBeUndefined();
    const fence = await carol.send(BOB, { type: 'text', text: 'fence' });
    await bob.events.waitFor('message', (e) => e.id === fence.id);
    expect(bob.events.of('message').map((e) => e.id)).toEqual([fence.id]);
    expect(alice.events.of('receipt').some((e) => e.id === blocked.id)).toBe(false);
    const list = await bob.iq({ xmlns: 'blocklist', type: 'get' });
    expect(JSON.stringify(list)).toContain(ALICE);
  });
});
