// The in-process form of the server: the chat socket over mock-socket, same core, same checks.
import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../crypto/profiles.ts';
import { httpMediaStore } from '../peers/http-media.ts';
import { enlist, enlistForm, logIn, newAuthKey } from '../peers/interop-client.ts';
import { connectMockLink } from '../peers/mock-link.ts';
import { Peer } from '../peers/peer.ts';
import type { RunningServer } from './server.ts';
import { startServer } from './server.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('server with the in-process chat transport', () => {
  it('logs in an interop user over mock-socket and routes a message', async () => {
    server = await startServer({ transport: 'memory', seed: 'memory' });
    expect(server.wsUrl.startsWith('ws://in-process-')).toBe(true);
    const profile = getProfile('signal-x3dh');
    const alice = await server.attachPeer({ jid: '491701234567@s.whatsapp.net', profile });
    const identity = await profile.createIdentity({ preKeyCount: 30 });
    const authKey = newAuthKey();
    const jid = '1-7@interop';
    expect(
      await enlist(server.httpUrl, enlistForm(identity, authKey, await server.partner.issueToken('7'))),
    ).toEqual({
      status: 'ok',
      login: jid,
    });
    const link = await connectMockLink(server.wsUrl);
    let bob: Peer | undefined;
    bob = await Peer.create({
      jid,
      profile,
      identity,
      link,
      media: httpMediaStore(() => (bob as Peer).mediaGrant()),
    });
    await logIn(link, { jid, authKey, token: await server.partner.issueToken('7') });
    await bob.uploadKeys();
    const m = await bob.send(alice.jid, { type: 'text', text: 'in process' });
    await alice.events.waitFor('message', (e) => e.id === m.id);
    const frames = server.transcript.entries().filter((e) => e.kind === 'frame' && e.connection === 'c1');
    expect(frames.length).toBeGreaterThan(3);
    bob.close();
    link.close();
  });
});
