// The errors of the driver layer. A DriverError is a HarnessError (a run with one is ERROR, never
// blamed on the candidate's protocol behaviour) that also says which endpoint failed and how, so
// the report can show it and the scenario engine can tell a refusal from a broken driver.

import type { HarnessErrorCode } from '../codes.ts';
import { HarnessError } from '../codes.ts';
import type { Endpoint } from './contract.ts';
import { ENDPOINTS } from './contract.ts';
import type { DriverProblem } from './validate.ts';

export type DriverErrorCode = Extract<HarnessErrorCode, `HRN_ERR_DRIVER_${string}`> | 'HRN_ERR_INTERNAL';

export interface DriverErrorDetail {
  readonly endpoint: Endpoint;
  /** The HTTP status, when an answer arrived. */
  readonly status?: number;
  /** Schema problems of the answer (BAD_RESPONSE) or of the request (INTERNAL). */
  readonly problems?: readonly DriverProblem[];
  /** The candidate's own error, when it answered a well-formed one (DRIVER_ERROR). */
  readonly candidateError?: { readonly code: string; readonly message: string };
}

export class DriverError extends HarnessError {
  override readonly code: DriverErrorCode;
  readonly endpoint: Endpoint;
  /** The message without the code and endpoint: what went wrong. */
  readonly problem: string;
  readonly status: number | undefined;
  readonly problems: readonly DriverProblem[];
  readonly candidateError: DriverErrorDetail['candidateError'];

  constructor(code: DriverErrorCode, detail: DriverErrorDetail, problem: string, options?: ErrorOptions) {
    super(code, `${endpointLabel(detail.endpoint)}: ${problem}`, options);
    this.name = 'DriverError';
    this.code = code;
    this.endpoint = detail.endpoint;
    this.problem = problem;
    this.status = detail.status;
    this.problems = detail.problems ?? [];
    this.candidateError = detail.candidateError;
  }
}

/** `POST /v1/send`: how every message names the endpoint. */
export function endpointLabel(endpoint: Endpoint): string {
  const { method, path } = ENDPOINTS[endpoint];
  return `${method} ${path}`;
}

/**
 * What a TypeScript candidate throws to answer a call with a well-formed error, the in-process
 * twin of an HTTP error answer (`{"error": {"code", "message"}}` with `status`).
 */
export class CandidateError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'CandidateError';
    this.code = code;
    this.status = status;
  }
}
