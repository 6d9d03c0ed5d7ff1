// The driver contract over HTTP: createHttpDriver(baseUrl) gives a CandidateDriver that calls a
// candidate's driver with undici on a dedicated Agent (keep-alive, connect timeout, header size
// limit), reads at most maxBodyBytes of any answer, gives up on a body that stalls, refuses text
// that is not strict JSON (strict-json.ts), and leaves everything else (deadlines, retries,
// schema validation, logging) to the shared pipeline in core.ts. A hanging, slow, chatty or
// broken driver always ends in a coded DriverError naming the endpoint, never in a hung harness
// (docs/HOSTILE.md, the hostile driver campaign).

import { Agent, request } from 'undici';
import { HarnessError } from '../codes.ts';
import { DRIVER_CONTRACT_VERSION } from './contract.ts';
import type { Call, DriverOptions, Exchange, HarnessDriver, Progress } from './core.ts';
import { createDriver, DRIVER_DEFAULTS } from './core.ts';
import { DriverError } from './errors.ts';
import { strictJsonProblem } from './strict-json.ts';

export { checkManifest } from './core.ts';

export interface HttpDriverOptions extends DriverOptions {
  /** Time to open a TCP connection before the call counts as unreachable, ms. Default 5 000. */
  readonly connectTimeoutMs?: number;
  /**
   * Longest silence inside an answer's body once its headers came, ms. Default 5 000. A driver
   * writes a body in one go, so a body that stops is broken: this ends it before the call's own
   * time limit (up to 65 s for a long-poll) runs out.
   */
  readonly idleTimeoutMs?: number;
}

/** Largest status line and headers read, bytes: Node's own default, stated so messages can name it. */
export const MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_IDLE_TIMEOUT_MS = 5_000;

export interface HttpDriver extends HarnessDriver {
  readonly baseUrl: string;
}

const USER_AGENT = `interop-cert (driver contract ${DRIVER_CONTRACT_VERSION})`;

/** A driver for the candidate whose contract is served at `baseUrl` (e.g. `http://127.0.0.1:7000`). */
export function createHttpDriver(baseUrl: string, options: HttpDriverOptions = {}): HttpDriver {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new HarnessError('HRN_ERR_USAGE', `the candidate URL ${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new HarnessError('HRN_ERR_USAGE', `the candidate URL ${baseUrl} is not http or https`);
  }
  if (base.search || base.hash) {
    throw new HarnessError('HRN_ERR_USAGE', `the candidate URL ${baseUrl} must not have a query or fragment`);
  }
  // A path prefix is allowed (`http://host/driver`): endpoints are appended to it.
  const prefix = base.origin + base.pathname.replace(/\/+$/, '');
  const maxBodyBytes = options.maxBodyBytes ?? DRIVER_DEFAULTS.maxBodyBytes;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const timeouts = { connectTimeoutMs, idleTimeoutMs };
  const agent = new Agent({
    connect: { timeout: connectTimeoutMs },
    maxHeaderSize: MAX_HEADER_BYTES,
    // Below Node's default server keep-alive (5 s), so we never reuse a socket the candidate is
    // closing: a POST that dies on a stale socket could not be retried.
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 4_000,
  });

  const transport = async (call: Call, signal: AbortSignal, progress: Progress): Promise<Exchange> => {
    // undici's header timer is a backstop only: the pipeline's deadline aborts first, with a
    // message that says what was missing. Its body timer is the idle limit.
    const backstop = callLimit(call, options) + 1_000;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(prefix + call.path, {
        method: call.method,
        dispatcher: agent,
        signal,
        headersTimeout: backstop,
        bodyTimeout: Math.min(idleTimeoutMs, backstop),
        headers: {
          accept: 'application/json',
          'user-agent': USER_AGENT,
          ...(call.body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(call.body !== undefined && { body: call.body }),
      });
    } catch (e) {
      throw networkError(call, e, base.origin, timeouts);
    }
    progress.phase = 'reading';
    const status = res.statusCode;
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      res.body.destroy();
      throw tooLarge(call, status, `declares ${declared} bytes`, maxBodyBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBodyBytes) {
          // Stop reading: destroying the body closes the socket instead of draining the rest.
          res.body.destroy();
          throw tooLarge(call, status, `went past ${maxBodyBytes} bytes`, maxBodyBytes);
        }
        chunks.push(chunk);
      }
    } catch (e) {
      if (e instanceof DriverError) throw e;
      throw networkError(call, e, base.origin, timeouts);
    }
    const bytes = Buffer.concat(chunks);
    const ok = status >= 200 && status < 300;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: ok }).decode(bytes);
    } catch {
      throw new DriverError(
        'HRN_ERR_DRIVER_BAD_JSON',
        { endpoint: call.endpoint, status },
        'the answer is not UTF-8 text',
      );
    }
    // Strict JSON here, where the raw text is: past this point a body nested a million deep
    // would overflow the stack of the call log. Text that is not JSON at all goes on to the
    // pipeline, whose message quotes the syntax error.
    const problem = strictJsonProblem(text);
    if (problem !== undefined && parses(text)) {
      throw ok
        ? new DriverError(
            'HRN_ERR_DRIVER_BAD_JSON',
            { endpoint: call.endpoint, status },
            `the answer is not strict JSON (RFC 7493): ${problem}`,
          )
        : new DriverError(
            'HRN_ERR_DRIVER_HTTP_STATUS',
            { endpoint: call.endpoint, status },
            `HTTP ${status}, and the body is not a strict JSON error answer: ${problem}`,
          );
    }
    return { status, text };
  };

  const driver = createDriver(transport, options, async () => {
    // destroy, not close: close would wait for a long-poll in flight to finish.
    await agent.destroy();
  });
  return { ...driver, baseUrl: prefix };
}

function tooLarge(call: Call, status: number, what: string, max: number): DriverError {
  return new DriverError(
    'HRN_ERR_DRIVER_TOO_LARGE',
    { endpoint: call.endpoint, status },
    `the answer ${what}, more than the limit of ${max}; stopped reading`,
  );
}

/** The call's time limit as the pipeline computes it (core.ts); undici's backstop sits past it. */
function callLimit(call: Call, options: HttpDriverOptions): number {
  if (call.query) return call.query.wait + (options.longPollSlackMs ?? DRIVER_DEFAULTS.longPollSlackMs);
  const endpoint = call.endpoint === 'events' ? undefined : call.endpoint;
  const perEndpoint: Partial<Record<string, number>> = {
    ...DRIVER_DEFAULTS.endpointTimeoutMs,
    ...options.endpointTimeoutMs,
  };
  return (endpoint && perEndpoint[endpoint]) ?? options.timeoutMs ?? DRIVER_DEFAULTS.timeoutMs;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** undici and socket errors, in words a vendor can act on. */
function networkError(
  call: Call,
  e: unknown,
  origin: string,
  limits: { readonly connectTimeoutMs: number; readonly idleTimeoutMs: number },
): DriverError {
  const code = errorCode(e);
  const detail = { endpoint: call.endpoint };
  const unreachable = (problem: string) =>
    new DriverError('HRN_ERR_DRIVER_UNREACHABLE', detail, problem, { cause: e });
  // An answer that is not HTTP/1.1 is no answer: the connection is dropped, as after a reset.
  if (
    e instanceof Error &&
    (e.name === 'HTTPParserError' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
  ) {
    return unreachable(`the answer is not valid HTTP/1.1 (${e.message})`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return unreachable(`connection refused at ${origin}: is the candidate's driver running?`);
    case 'UND_ERR_CONNECT_TIMEOUT':
      return unreachable(`no connection to ${origin} within ${limits.connectTimeoutMs} ms`);
    case 'UND_ERR_HEADERS_OVERFLOW':
      return new DriverError(
        'HRN_ERR_DRIVER_TOO_LARGE',
        detail,
        `the answer's status line and headers are larger than ${MAX_HEADER_BYTES} bytes; stopped reading`,
        { cause: e },
      );
    case 'UND_ERR_BODY_TIMEOUT':
      return new DriverError(
        'HRN_ERR_DRIVER_TIMEOUT',
        detail,
        `the answer began but stalled: no data for ${limits.idleTimeoutMs} ms`,
        { cause: e },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return unreachable(`cannot resolve the host of ${origin}`);
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return unreachable(`the connection closed before a complete answer (${code})`);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new DriverError('HRN_ERR_DRIVER_TIMEOUT', detail, `no complete answer in time (${code})`, {
        cause: e,
      });
    default:
      return unreachable(
        `the call failed: ${e instanceof Error ? e.message : String(e)}${code ? ` (${code})` : ''}`,
      );
  }
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, errors, cause } = e as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  // Happy eyeballs: several addresses failed, each with its own error.
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return cause === undefined ? undefined : errorCode(cause);
}
