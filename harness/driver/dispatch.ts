// Calling a CandidateDriver by endpoint name, and the error answer a thrown error becomes: shared
// by the in-process adapter and the HTTP server of the contract, so both answer alike.

import type {
  BlockRequest,
  CandidateDriver,
  ConnectRequest,
  Endpoint,
  ReadRequest,
  SendRequest,
  TypingRequest,
} from './contract.ts';
import { CandidateError } from './errors.ts';

export interface EventsQuery {
  readonly after: number;
  readonly wait: number;
}

/** Calls the method of `endpoint`; `request` must already be a valid body of that endpoint. */
export async function invokeEndpoint(
  impl: CandidateDriver,
  endpoint: Endpoint,
  request: unknown,
  query: EventsQuery | undefined,
): Promise<unknown> {
  switch (endpoint) {
    case 'manifest':
      return impl.manifest();
    case 'reset':
      return impl.reset();
    case 'connect':
      return impl.connect(request as ConnectRequest);
    case 'disconnect':
      return impl.disconnect();
    case 'send':
      return impl.send(request as SendRequest);
    case 'read':
      return impl.read(request as ReadRequest);
    case 'typing':
      return impl.typing(request as TypingRequest);
    case 'block':
      return impl.block(request as BlockRequest);
    case 'unblock':
      return impl.unblock(request as BlockRequest);
    case 'events':
      return impl.events(query?.after ?? 0, query?.wait ?? 0);
  }
}

/** Any error with a string `code` and a 4xx/5xx `status`: CandidateError, or a candidate's own
 *  class (a TypeScript candidate need not import the harness to answer with an error). */
function isCandidateError(e: unknown): e is { code: string; status: number; message: string } {
  if (e instanceof CandidateError) return true;
  if (!(e instanceof Error)) return false;
  const { code, status } = e as Error & { code?: unknown; status?: unknown };
  return typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code) && typeof status === 'number';
}

/**
 * The answer for a thrown error: a candidate error keeps its code and status (4xx or 5xx), any
 * other throw is a 500 `internal` error carrying its message.
 */
export function errorAnswer(e: unknown): { readonly status: number; readonly text: string } {
  if (isCandidateError(e)) {
    const status = e.status >= 400 && e.status <= 599 ? e.status : 500;
    return { status, text: JSON.stringify({ error: { code: e.code, message: e.message } }) };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, text: JSON.stringify({ error: { code: 'internal', message } }) };
}
