// A TypeScript candidate driven in the harness's own process, through the same pipeline as an
// HTTP one: requests and answers cross as JSON text (so nothing is shared by reference and
// nothing that JSON cannot carry survives), every answer is validated, every call is logged,
// and the same deadlines apply. A candidate that passes in-process passes over HTTP.

import type { CandidateDriver } from './contract.ts';
import type { Call, DriverOptions, Exchange, HarnessDriver } from './core.ts';
import { createDriver } from './core.ts';
import { errorAnswer, invokeEndpoint } from './dispatch.ts';
import { DriverError } from './errors.ts';

export type InProcessOptions = DriverOptions;

/**
 * Wraps `impl`. To answer with a well-formed error it throws CandidateError(code, message,
 * status); any other throw is answered as a 500 `internal` error, as an HTTP server would.
 */
export function inProcessDriver(impl: CandidateDriver, options: InProcessOptions = {}): HarnessDriver {
  const transport = async (call: Call): Promise<Exchange> => {
    // A fresh copy for the candidate: it may keep or change what it gets.
    const request: unknown = call.body === undefined ? undefined : JSON.parse(call.body);
    let result: unknown;
    try {
      result = await invokeEndpoint(impl, call.endpoint, request, call.query);
    } catch (e) {
      return errorAnswer(e);
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(result);
    } catch (e) {
      throw new DriverError(
        'HRN_ERR_DRIVER_BAD_JSON',
        { endpoint: call.endpoint },
        `the answer cannot be written as JSON: ${(e as Error).message}`,
      );
    }
    if (text === undefined) {
      throw new DriverError(
        'HRN_ERR_DRIVER_BAD_JSON',
        { endpoint: call.endpoint },
        'the answer is not a JSON value',
      );
    }
    return { status: 200, text };
  };
  return createDriver(transport, options, async () => {});
}
