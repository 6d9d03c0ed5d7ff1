// `interop-cert serve`: the simulated server on its own, for vendors developing against it.
// It prints where everything is, a partner token to enlist with, and keeps running until
// Ctrl-C. Two WhatsApp users are there to talk to: Alice answers every text, Bob stays quiet
// (use him for receipts and typing).

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { HarnessError } from '../codes.ts';
import type { CryptoProfileId } from '../crypto/profile.ts';
import { getProfile } from '../crypto/profiles.ts';
import type { Peer } from '../peers/peer.ts';
import type { RunningServer } from '../server/server.ts';
import { startServer } from '../server/server.ts';
import type { ExitCode, Io } from './main.ts';

export const DEFAULT_SEED = 'interop-cert';
export const DEMO_SUB = '10853634039893';
export const ALICE = '491701234567@s.whatsapp.net';
export const BOB = '491709876543@s.whatsapp.net';

export interface ServeOptions {
  readonly port: number;
  readonly seed: string;
  readonly profile: CryptoProfileId;
  readonly partnerJwks?: string;
  readonly partnerIssuer?: string;
  readonly transcript?: string;
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is 0..65535');
  return n;
}

/** Alice replies to each text message, so a vendor sees a full round trip. */
function echo(alice: Peer): void {
  alice.events.subscribe((e) => {
    if (e.type !== 'message') return;
    const text =
      e.content.type === 'text' || e.content.type === 'reply' ? e.content.text : `a ${e.content.type}`;
    alice.markRead(e.from, [e.id]);
    alice.send(e.from, { type: 'reply', text: `echo: ${text}`, quotedId: e.id }).catch(() => undefined);
  });
}

/** Starts the server and its demo users, prints the guide; returns the running server. */
export async function serve(opts: ServeOptions, io: Io): Promise<RunningServer> {
  let partnerKeys: { jwks: JSONWebKeySet; issuer: string } | undefined;
  if (opts.partnerJwks) {
    if (!opts.partnerIssuer) throw new HarnessError('HRN_ERR_USAGE', '--partner-jwks needs --partner-issuer');
    try {
      partnerKeys = {
        jwks: JSON.parse(readFileSync(opts.partnerJwks, 'utf8')) as JSONWebKeySet,
        issuer: opts.partnerIssuer,
      };
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `cannot read the partner JWKS ${opts.partnerJwks}: ${(e as Error).message}`,
      );
    }
  }
  const server = await startServer({
    port: opts.port,
    seed: opts.seed,
    // A development server runs for hours: keep the recent wire in memory, all of it in --transcript.
    transcriptMaxEntries: 50_000,
    ...(partnerKeys ? { partnerKeys } : {}),
    ...(opts.transcript ? { transcriptFile: opts.transcript } : {}),
  });
  const profile = getProfile(opts.profile);
  const alice = await server.attachPeer({
    jid: ALICE,
    profile,
    name: 'Alice',
    preKeyCount: 100,
    seed: `${opts.seed}/alice`,
  });
  await server.attachPeer({ jid: BOB, profile, name: 'Bob', preKeyCount: 100, seed: `${opts.seed}/bob` });
  echo(alice);
  const token = await server.partner.issueToken(DEMO_SUB);
  const lines = [
    'interop-cert simulated WhatsApp interop server',
    '',
    `  HTTP        ${server.httpUrl}   (POST /3p/interop_reg, media, GET /health)`,
    `  chat        ${server.wsUrl}`,
    `  profile     ${opts.profile}   seed ${opts.seed}`,
    '',
    'WhatsApp users to talk to:',
    `  ${ALICE}   Alice, answers every message`,
    `  ${BOB}   Bob, quiet`,
    '',
    partnerKeys
      ? `Partner: your keys (issuer ${partnerKeys.issuer}); sign tokens with aud "s.whatsapp.net".`
      : `Test partner: issuer ${server.partner.issuer}, kid ${server.partner.kid}. A token for user ${DEMO_SUB} (1 hour):`,
    ...(partnerKeys
      ? []
      : [`  ${token}`, `  more: npx interop-cert token --seed ${opts.seed} --sub <digits>`]),
    '',
    'Point your app at it:',
    `  1. enlist: POST ${server.httpUrl}/3p/interop_reg (form fields of docs/PROFILE.md §5.1) -> 1-<sub>@interop`,
    `  2. open ${server.wsUrl} and send <login jid authkey token/> (docs/PROFILE.md §5.2)`,
    '  3. upload keys, then message Alice.',
    '',
    'Ctrl-C stops the server.',
  ];
  for (const l of lines) io.out(l);
  return server;
}

export function registerServe(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('serve')
    .description('run the simulated WhatsApp interop server for development against it')
    .addOption(
      new Option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)')
        .argParser(parsePort)
        .default(40123),
    )
    .option('--seed <s>', 'seed of the test partner and push keys', DEFAULT_SEED)
    .addOption(
      new Option('--profile <p>', 'crypto profile of the demo WhatsApp users')
        .choices(['signal-pqxdh', 'signal-x3dh'])
        .default('signal-x3dh'),
    )
    .option('--partner-jwks <file>', 'verify tokens with your partner key set instead of the test partner')
    .option('--partner-issuer <iss>', 'the issuer your partner tokens carry (with --partner-jwks)')
    .option('--transcript <file>', 'write every frame and event to a JSONL file')
    .action(async (opts: ServeOptions) => {
      const server = await serve(opts, io);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          io.out('stopping...');
          server.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      setExit(0);
    });

  program
    .command('token')
    .description('issue a test partner token (the partner `serve` hosts with the same --seed)')
    .requiredOption('--sub <digits>', "the partner's user id (1 to 20 digits)")
    .option('--seed <s>', 'seed of the test partner', DEFAULT_SEED)
    .action(async (opts: { sub: string; seed: string }) => {
      if (!/^[0-9]{1,20}$/.test(opts.sub)) throw new HarnessError('HRN_ERR_USAGE', '--sub is 1 to 20 digits');
      const { createTestPartner } = await import('../server/partner.ts');
      io.out(await createTestPartner({ seed: `${opts.seed}/partner` }).issueToken(opts.sub));
      setExit(0);
    });
}
