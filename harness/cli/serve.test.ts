import { afterEach, describe, expect, it } from 'vitest';
import { getProfile } from '../crypto/profiles.ts';
import { httpMediaStore } from '../peers/http-media.ts';
import { enlist, enlistForm, logIn, newAuthKey } from '../peers/interop-client.ts';
import { Peer } from '../peers/peer.ts';
import { connectWsLink } from '../peers/ws-link.ts';
import type { RunningServer } from '../server/server.ts';
import { main } from './main.ts';
import { ALICE, DEMO_SUB, serve } from './serve.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('interop-cert serve', () => {
  it('prints where everything is and a token a vendor can enlist with; Alice answers', async () => {
    const out: string[] = [];
    server = await serve(
      { port: 0, seed: 'serve-test', profile: 'signal-x3dh' },
      { out: (l) => out.push(l), err: () => {} },
    );
    const text = out.join('\n');
    expect(text).toContain(server.httpUrl);
    expect(text).toContain(server.wsUrl);
    const token = out.find((l) => /^ {2}eyJ/.test(l))?.trim() ?? '';
    expect(token.split('.')).toHaveLength(3);
    expect(await (await fetch(`${server.httpUrl}/health`)).json()).toEqual({ status: 'ok' });

    // A vendor's app, in miniature: enlist with the printed token, log in, message Alice.
    const profile = getProfile('signal-x3dh');
    const identity = await profile.createIdentity({ preKeyCount: 30 });
    const authKey = newAuthKey();
    const jid = `1-${DEMO_SUB}@interop`;
    expect(await enlist(server.httpUrl, enlistForm(identity, authKey, token))).toEqual({
      status: 'ok',
      login: jid,
    });
    const link = await connectWsLink(server.wsUrl);
    let self: Peer | undefined;
    self = await Peer.create({
      jid,
      profile,
      identity,
      link,
      media: httpMediaStore(() => (self as Peer).mediaGrant()),
    });
    await logIn(link, { jid, authKey, token });
    await self.uploadKeys();
    const m = await self.send(ALICE, { type: 'text', text: 'ping' });
    const answer = await self.events.waitFor('message', (e) => e.from === ALICE);
    expect(answer.content).toMatchObject({ type: 'reply', text: 'echo: ping', quotedId: m.id });
    self.close();
    link.close();
  });

  it('`token` issues tokens the served partner accepts', async () => {
    const out: string[] = [];
    const code = await main(['node', 'interop-cert', 'token', '--sub', '42', '--seed', 'serve-test-2'], {
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    server = await serve(
      { port: 0, seed: 'serve-test-2', profile: 'signal-x3dh' },
      { out: () => {}, err: () => {} },
    );
    const identity = await getProfile('signal-x3dh').createIdentity({ preKeyCount: 1 });
    const reply = await enlist(server.httpUrl, enlistForm(identity, newAuthKey(), out[0] ?? ''));
    expect(reply).toEqual({ status: 'ok', login: '1-42@interop' });
    // A token from another seed's partner is refused.
    const other: string[] = [];
    await main(['node', 'interop-cert', 'token', '--sub', '42', '--seed', 'elsewhere'], {
      out: (l) => other.push(l),
      err: () => {},
    });
    expect(await enlist(server.httpUrl, enlistForm(identity, newAuthKey(), other[0] ?? ''))).toEqual({
      status: 'fail',
      reason: 'bad_token',
    });
  });

  it('refuses bad arguments with exit code 2', async () => {
    const quiet = { out: () => {}, err: () => {} };
    expect(await main(['node', 'interop-cert', 'serve', '--port', '70000'], quiet)).toBe(2);
    expect(await main(['node', 'interop-cert', 'token', '--sub', 'abc'], quiet)).toBe(2);
    expect(await main(['node', 'interop-cert', 'serve', '--partner-jwks', 'x.json'], quiet)).toBe(2);
  });
});
