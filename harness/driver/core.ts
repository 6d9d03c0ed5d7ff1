// The one call pipeline behind both drivers (HTTP and in-process): check the request, apply the
// deadline, retry what may be retried, turn the answer into a result or a coded DriverError, and
// log every attempt. A transport only moves text; everything the contract says about answers
// lives here, so a TypeScript candidate is held to exactly the rules an HTTP one is.

import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BlockRequest,
  CandidateDriver,
  ConnectRequest,
  ConnectResponse,
  Endpoint,
  EventsResponse,
  Manifest,
  OkResponse,
  ReadRequest,
  SendRequest,
  SendResponse,
  TypingRequest,
} from './contract.ts';
import { DRIVER_CONTRACT_VERSION, ENDPOINTS } from './contract.ts';
import { DriverError } from './errors.ts';
import { DriverLog } from './log.ts';
import type { DriverProblem } from './validate.ts';
import { describeProblems, ENDPOINT_SCHEMAS, validateDriver } from './validate.ts';

/** One call as a transport sees it. */
export interface Call {
  readonly endpoint: Endpoint;
  readonly method: 'GET' | 'POST';
  /** Path with query string. */
  readonly path: string;
  /** The JSON text of the request body (POST only). */
  readonly body?: string;
  /** The query of GET /v1/events. */
  readonly query?: { readonly after: number; readonly wait: number };
}

/** What came back: a status and the body's text. */
export interface Exchange {
  readonly status: number;
  readonly text: string;
}

/** Where a transport is, so a timeout can say what was still missing. */
export interface Progress {
  phase: 'waiting' | 'reading';
}

/**
 * Moves one call. It throws DriverError only for what it alone can see (UNREACHABLE, TOO_LARGE,
 * BAD_JSON for bytes that are not text); it stops when `signal` aborts.
 */
export type Transport = (call: Call, signal: AbortSignal, progress: Progress) => Promise<Exchange>;

export interface DriverOptions {
  /** Time limit of one call, ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Per-endpoint limits that replace timeoutMs. Default: connect 30 000 (enlist, log in, upload keys). */
  readonly endpointTimeoutMs?: Partial<Record<Exclude<Endpoint, 'events'>, number>>;
  /** GET /v1/events may take `wait` plus this, ms. Default 5 000. */
  readonly longPollSlackMs?: number;
  /** Largest answer body read, bytes. Default 8 MiB. */
  readonly maxBodyBytes?: number;
  /** Extra attempts of an idempotent call after a connection failure. Default 2. */
  readonly retries?: number;
  /** Backoff before retry n is retryDelayMs * 2^(n-1). Default 100. */
  readonly retryDelayMs?: number;
  /** Check requests and answers against the schemas. Default true. */
  readonly validate?: boolean;
  /** Where every attempt is recorded. A new log unless given. */
  readonly log?: DriverLog;
}

export const DRIVER_DEFAULTS = {
  timeoutMs: 10_000,
  endpointTimeoutMs: { connect: 30_000 },
  longPollSlackMs: 5_000,
  maxBodyBytes: 8 * 1024 * 1024,
  retries: 2,
  retryDelayMs: 100,
} as const;

/** The longest `wait` the harness asks for, ms; candidates may rely on it. */
export const MAX_WAIT_MS = 60_000;

/**
 * Calls safe to repeat: reading the manifest or the event log changes nothing, and a reset ends in
 * the same clean state however often it runs. Everything else acts once for the user (a send
 * twice is two messages), so it is never repeated.
 */
export const IDEMPOTENT: ReadonlySet<Endpoint> = new Set<Endpoint>(['manifest', 'events', 'reset']);

/** A driver as the harness uses it: the contract, its log, and a way to let go of it. */
export interface HarnessDriver extends CandidateDriver {
  readonly log: DriverLog;
  close(): Promise<void>;
}

/** Throws HRN_ERR_DRIVER_CONTRACT_VERSION unless the manifest names this harness's contract version. */
export function checkManifest(manifest: Pick<Manifest, 'contractVersion'>): void {
  checkVersion(manifest.contractVersion);
}

function checkVersion(version: unknown): void {
  if (version === DRIVER_CONTRACT_VERSION) return;
  throw new DriverError(
    'HRN_ERR_DRIVER_CONTRACT_VERSION',
    { endpoint: 'manifest' },
    `the candidate implements driver contract ${JSON.stringify(version)}, this harness speaks ` +
      `"${DRIVER_CONTRACT_VERSION}"; run a harness release for the candidate's version or update its driver`,
  );
}

export function createDriver(transport: Transport, options: DriverOptions, close: () => Promise<void>) {
  const o = {
    timeoutMs: options.timeoutMs ?? DRIVER_DEFAULTS.timeoutMs,
    endpointTimeoutMs: { ...DRIVER_DEFAULTS.endpointTimeoutMs, ...options.endpointTimeoutMs },
    longPollSlackMs: options.longPollSlackMs ?? DRIVER_DEFAULTS.longPollSlackMs,
    maxBodyBytes: options.maxBodyBytes ?? DRIVER_DEFAULTS.maxBodyBytes,
    retries: options.retries ?? DRIVER_DEFAULTS.retries,
    retryDelayMs: options.retryDelayMs ?? DRIVER_DEFAULTS.retryDelayMs,
    validate: options.validate ?? true,
  };
  const log = options.log ?? new DriverLog();

  async function call(endpoint: Endpoint, request?: object, query?: Call['query']): Promise<unknown> {
    const { method, path } = ENDPOINTS[endpoint];
    const schemas = ENDPOINT_SCHEMAS[endpoint];
    if (schemas.request && o.validate) {
      const problems = validateDriver(schemas.request, request ?? {});
      if (problems.length > 0) {
        throw new DriverError(
          'HRN_ERR_INTERNAL',
          { endpoint, problems },
          `the harness built a request that breaks ${schemas.request}.schema.json (a harness bug): ${describeProblems(problems)}`,
        );
      }
    }
    const c: Call = {
      endpoint,
      method,
      path: query ? `${path}?after=${query.after}&wait=${query.wait}` : path,
      ...(method === 'POST' && { body: JSON.stringify(request ?? {}) }),
      ...(query && { query }),
    };
    const limit =
      endpoint === 'events'
        ? (query?.wait ?? 0) + o.longPollSlackMs
        : (o.endpointTimeoutMs[endpoint] ?? o.timeoutMs);
    const attempts = IDEMPOTENT.has(endpoint) ? o.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      const t0 = performance.now();
      const seen: { status?: number; response?: unknown } = {};
      const entry = () => ({
        endpoint,
        method,
        path: c.path,
        attempt,
        startedAt,
        durationMs: Math.round(performance.now() - t0),
        ...(method === 'POST' && { request: request ?? {} }),
        ...seen,
      });
      try {
        const exchange = await withDeadline(endpoint, limit, (signal, progress) =>
          transport(c, signal, progress),
        );
        seen.status = exchange.status;
        const result = interpret(endpoint, exchange, seen, query?.after ?? 0);
        log.record(entry());
        return result;
      } catch (e) {
        let err = asDriverError(endpoint, e);
        log.record({ ...entry(), error: { code: err.code, message: err.message } });
        const again = err.code === 'HRN_ERR_DRIVER_UNREACHABLE' && attempt < attempts;
        if (again) {
          await sleep(o.retryDelayMs * 2 ** (attempt - 1));
          continue;
        }
        if (attempt > 1) {
          err = new DriverError(err.code, err, `${err.problem} (${attempt} attempts)`, { cause: err.cause });
        }
        throw err;
      }
    }
  }

  /** Status, JSON, schema and contract rules, in that order; records what it parsed in `seen`. */
  function interpret(endpoint: Endpoint, x: Exchange, seen: { response?: unknown }, after: number): unknown {
    const bytes = Buffer.byteLength(x.text, 'utf8');
    if (bytes > o.maxBodyBytes) {
      throw new DriverError(
        'HRN_ERR_DRIVER_TOO_LARGE',
        { endpoint, status: x.status },
        `the answer is ${bytes} bytes, more than the limit of ${o.maxBodyBytes}`,
      );
    }
    const ok = x.status >= 200 && x.status < 300;
    let body: unknown;
    try {
      body = JSON.parse(x.text);
      seen.response = body;
    } catch (e) {
      if (ok) {
        throw new DriverError(
          'HRN_ERR_DRIVER_BAD_JSON',
          { endpoint, status: x.status },
          `the answer is not JSON (${(e as Error).message}): ${snippet(x.text)}`,
        );
      }
      throw new DriverError(
        'HRN_ERR_DRIVER_HTTP_STATUS',
        { endpoint, status: x.status },
        `HTTP ${x.status}, and the body is not a JSON error: ${snippet(x.text)}`,
      );
    }
    if (!ok) {
      if (validateDriver('error-response', body).length === 0) {
        const { code, message } = (body as { error: { code: string; message: string } }).error;
        throw new DriverError(
          'HRN_ERR_DRIVER_ERROR',
          { endpoint, status: x.status, candidateError: { code, message } },
          `the candidate answered HTTP ${x.status} ${code}: ${message}`,
        );
      }
      throw new DriverError(
        'HRN_ERR_DRIVER_HTTP_STATUS',
        { endpoint, status: x.status },
        `HTTP ${x.status}, and the body is not an error answer: ${snippet(x.text)}`,
      );
    }
    // The version first: a manifest of another version may well have another shape, and "wrong
    // version" is the diagnosis a vendor needs, not the shape problems that follow from it.
    if (endpoint === 'manifest' && isObject(body) && typeof body.contractVersion === 'string') {
      checkVersion(body.contractVersion);
    }
    if (!o.validate) return body;
    const name = ENDPOINT_SCHEMAS[endpoint].response;
    const problems = validateDriver(name, body);
    if (problems.length > 0) {
      throw new DriverError(
        'HRN_ERR_DRIVER_BAD_RESPONSE',
        { endpoint, status: x.status, problems },
        `the answer breaks ${name}.schema.json: ${describeProblems(problems)}`,
      );
    }
    const order = endpoint === 'events' ? sequenceProblems(body as EventsResponse, after) : [];
    if (order.length > 0) {
      throw new DriverError(
        'HRN_ERR_DRIVER_BAD_RESPONSE',
        { endpoint, status: x.status, problems: order },
        `the answer breaks the event log's order: ${describeProblems(order)}`,
      );
    }
    return body;
  }

  const driver: HarnessDriver = {
    log,
    close,
    manifest: async () => (await call('manifest')) as Manifest,
    reset: async () => (await call('reset', {})) as OkResponse,
    connect: async (req: ConnectRequest) => (await call('connect', req)) as ConnectResponse,
    disconnect: async () => (await call('disconnect', {})) as OkResponse,
    send: async (req: SendRequest) => (await call('send', req)) as SendResponse,
    read: async (req: ReadRequest) => (await call('read', req)) as OkResponse,
    typing: async (req: TypingRequest) => (await call('typing', req)) as OkResponse,
    block: async (req: BlockRequest) => (await call('block', req)) as OkResponse,
    unblock: async (req: BlockRequest) => (await call('unblock', req)) as OkResponse,
    async events(after: number, waitMs: number) {
      if (
        !Number.isSafeInteger(after) ||
        after < 0 ||
        !Number.isInteger(waitMs) ||
        waitMs < 0 ||
        waitMs > MAX_WAIT_MS
      ) {
        throw new DriverError(
          'HRN_ERR_INTERNAL',
          { endpoint: 'events' },
          `after must be an integer >= 0 and wait 0..${MAX_WAIT_MS} ms (got after=${after}, wait=${waitMs}; a harness bug)`,
        );
      }
      return (await call('events', undefined, { after, wait: waitMs })) as EventsResponse;
    },
  };
  return driver;
}

/** The contract's rules for the event log that a schema cannot state. */
function sequenceProblems(body: EventsResponse, after: number): DriverProblem[] {
  const problems: DriverProblem[] = [];
  body.events.forEach((e, i) => {
    const want = after + 1 + i;
    if (e.seq !== want) {
      problems.push({
        path: `/events/${i}/seq`,
        message: `must be ${want}: seq counts up from after + 1 without gaps (got ${e.seq})`,
      });
    }
  });
  const lastEvent = body.events.at(-1);
  if (lastEvent && body.last !== lastEvent.seq) {
    problems.push({
      path: '/last',
      message: `must be ${lastEvent.seq}, the seq of the last event (got ${body.last})`,
    });
  } else if (!lastEvent && body.last > after) {
    problems.push({
      path: '/last',
      message: `is ${body.last}, but no events after ${after} came: events that exist are answered at once`,
    });
  } else if (!lastEvent && body.last < after) {
    problems.push({
      path: '/last',
      message: `is ${body.last}, below after=${after}: the event log went back without a reset (did the candidate restart?)`,
    });
  }
  return problems;
}

async function withDeadline<T>(
  endpoint: Endpoint,
  ms: number,
  run: (signal: AbortSignal, progress: Progress) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const progress: Progress = { phase: 'waiting' };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const what = progress.phase === 'reading' ? 'the answer began but did not finish' : 'no answer';
      // Settle first, then abort: the transport's abort error must lose the race.
      reject(new DriverError('HRN_ERR_DRIVER_TIMEOUT', { endpoint }, `${what} within ${ms} ms`));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal, progress), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function asDriverError(endpoint: Endpoint, e: unknown): DriverError {
  if (e instanceof DriverError) return e;
  return new DriverError(
    'HRN_ERR_INTERNAL',
    { endpoint },
    `unexpected failure in the driver client: ${String(e)}`,
    {
      cause: e,
    },
  );
}

function snippet(text: string): string {
  if (text.length === 0) return 'an empty body';
  return text.length <= 200
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 200))}… (${text.length} characters)`;
}

function isObject(v: unknown): v is { readonly [k: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
