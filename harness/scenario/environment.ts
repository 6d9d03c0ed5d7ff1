// Where scenarios run: one server and one connected candidate per crypto profile, shared by
// every scenario of the run. Scenarios stay independent through fresh peers with addresses no
// other scenario uses, and through their own slice of the transcript and of the events.

import type { CryptoProfile } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import type { CandidateDriver } from '../driver/contract.ts';
import type { Peer } from '../peers/peer.ts';
import type { CryptoProfileId } from '../requirements/types.ts';
import type { RunningServer, ServerOptions } from '../server/server.ts';
import { startServer } from '../server/server.ts';
import { CandidateEvents } from './candidate-events.ts';
import type { CandidateHandle, PeerRequest } from './context.ts';

/** The partner user the candidate enlists as. */
export const CANDIDATE_SUB = '10853634039893';

export interface ScenarioEnvironment {
  readonly profile: CryptoProfileId;
  readonly peerProfile: CryptoProfile;
  readonly server: RunningServer;
  readonly candidate: CandidateHandle;
  newPeer(request: PeerRequest): Promise<Peer>;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  readonly driver: CandidateDriver;
  readonly seed?: string;
  readonly server?: ServerOptions;
}

export async function openEnvironment(options: EnvironmentOptions): Promise<ScenarioEnvironment> {
  const { driver } = options;
  const seed = options.seed ?? 'run';
  const manifest = await driver.manifest();
  const profile = manifest.cryptoProfile;
  // The suite drives the candidate far faster than a user would: scenarios back to back can
  // make a well-behaved app send more than the profile's 200 frames a second. That limit guards
  // the server against floods (the hostile campaign tests it); it is not a requirement on the
  // candidate, so scenario runs raise it.
  // Likewise the login limit: scenarios that drop, un-enlist or reinstall the candidate log it
  // in again and again within one minute of server time.
  const server = await startServer({
    seed,
    ...options.server,
    limits: { maxFramesPerSecond: 5000, loginsPerMinute: 60, ...options.server?.limits },
  });
  const events = new CandidateEvents(driver);
  let jid: string;
  try {
    await driver.reset();
    events.start(0);
    const tokenUrl = server.tokenUrl;
    if (!tokenUrl) throw new Error('the run needs the test partner to issue candidate tokens');
    ({ jid } = await driver.connect({
      httpUrl: server.httpUrl,
      wsUrl: server.wsUrl,
      partner: { sub: CANDIDATE_SUB, tokenUrl },
    }));
  } catch (e) {
    // A driver that fails before the first scenario must not leave the server listening and
    // the event poller polling: the run's process would never exit.
    await events.stop();
    await server.stop();
    throw e;
  }
  const peerProfile = getProfile(profile);
  let peers = 0;
  return {
    profile,
    peerProfile,
    server,
    candidate: { driver, jid, manifest, events },
    newPeer(request) {
      peers += 1;
      const jidOf = `4917${String(peers).padStart(8, '0')}@s.whatsapp.net`;
      return server.attachPeer({
        jid: jidOf,
        profile: request.profile ?? peerProfile,
        seed: `${seed}/${jidOf}`,
        preKeyCount: request.preKeyCount ?? 10,
        ...(request.name === undefined ? {} : { name: request.name }),
        ...(request.optedIn === undefined ? {} : { optedIn: request.optedIn }),
      });
    },
    async close() {
      await events.stop();
      await driver.disconnect().catch(() => undefined);
      await server.stop();
    },
  };
}
