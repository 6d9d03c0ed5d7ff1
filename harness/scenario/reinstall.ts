// For the few scenarios that need the candidate as a clean install (a first enlistment, an
// identity the server forgot): reset it through the driver and, when asked, connect it again so
// the scenarios after them find it enlisted and online, under the same address.
//
// A reset starts the candidate's event log afresh (docs/DRIVER.md), so the harness's event
// poller is stopped first and restarted from the beginning; the scenario's own view of the
// events (cursors into the harness's copy) carries on unbroken.

import type { ConnectResponse } from '../driver/contract.ts';
import type { ScenarioContext } from './context.ts';
import { CANDIDATE_SUB } from './environment.ts';

/** Resets the candidate to a clean install; its events from now on arrive as before. */
export async function resetCandidate<V>(ctx: ScenarioContext<V>): Promise<void> {
  await ctx.candidate.events.stop();
  try {
    await ctx.candidate.driver.reset();
  } finally {
    ctx.candidate.events.start(0);
  }
}

/** Asks the candidate to connect (enlisting when it has to) to this run's server. */
export function connectCandidate<V>(ctx: ScenarioContext<V>): Promise<ConnectResponse> {
  const tokenUrl = ctx.server.tokenUrl;
  if (!tokenUrl) throw new Error('the run needs the test partner to issue candidate tokens');
  return ctx.candidate.driver.connect({
    httpUrl: ctx.server.httpUrl,
    wsUrl: ctx.server.wsUrl,
    partner: { sub: CANDIDATE_SUB, tokenUrl },
  });
}

/** A clean install, enlisted and online again: how a scenario that broke the identity ends. */
export async function reinstallCandidate<V>(ctx: ScenarioContext<V>): Promise<void> {
  await resetCandidate(ctx);
  const { jid } = await connectCandidate(ctx);
  if (jid !== ctx.candidate.jid) {
    throw new Error(`the reinstalled candidate logged in as ${jid}, not ${ctx.candidate.jid}`);
  }
}
