// Serves any CandidateDriver over HTTP as the driver contract says: the routes of ENDPOINTS,
// JSON in and out, requests checked against their schemas (400 `bad_request` naming the
// problem), thrown errors as error answers. A TypeScript candidate can expose itself with it,
// and tests put fakes behind real sockets with it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CandidateDriver, Endpoint } from './contract.ts';
import { ENDPOINTS } from './contract.ts';
import { MAX_WAIT_MS } from './core.ts';
import type { EventsQuery } from './dispatch.ts';
import { errorAnswer, invokeEndpoint } from './dispatch.ts';
import { CandidateError } from './errors.ts';
import { describeProblems, ENDPOINT_SCHEMAS, validateDriver } from './validate.ts';

export interface ServeDriverOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1: a driver is a control surface and must not be reachable from elsewhere. */
  readonly host?: string;
  /** Largest request body accepted, bytes. Default 32 MiB (a 16 MiB file in base64, and room). */
  readonly maxBodyBytes?: number;
}

export interface ServedRequest {
  readonly method: string;
  /** Path with query. */
  readonly url: string;
}

export interface DriverServer {
  /** The base URL to give createHttpDriver. */
  readonly url: string;
  /** Every request received, in order, answered or not. */
  readonly requests: readonly ServedRequest[];
  close(): Promise<void>;
}

const ROUTES = new Map<string, Endpoint>(
  Object.entries(ENDPOINTS).map(([name, e]) => [e.path, name as Endpoint] as const),
);

export async function serveDriver(
  impl: CandidateDriver,
  options: ServeDriverOptions = {},
): Promise<DriverServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const requests: ServedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    handle(impl, req, res, maxBodyBytes).catch((e: unknown) => answer(res, errorAnswer(e)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  impl: CandidateDriver,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
) {
  const url = new URL(req.url ?? '/', 'http://driver.invalid');
  const endpoint = ROUTES.get(url.pathname);
  if (!endpoint) throw new CandidateError('not_found', `no endpoint ${url.pathname}`, 404);
  const { method } = ENDPOINTS[endpoint];
  if (req.method !== method) {
    res.setHeader('allow', method);
    throw new CandidateError('method_not_allowed', `${url.pathname} takes ${method}`, 405);
  }
  let request: unknown;
  let query: EventsQuery | undefined;
  if (method === 'POST') {
    request = parseJson(await readBody(req, maxBodyBytes));
    const schema = ENDPOINT_SCHEMAS[endpoint].request;
    const problems = schema ? validateDriver(schema, request) : [];
    if (problems.length > 0) throw new CandidateError('bad_request', describeProblems(problems), 400);
  } else {
    req.resume();
    if (endpoint === 'events') query = eventsQuery(url.searchParams);
  }
  const result = await invokeEndpoint(impl, endpoint, request, query);
  answer(res, { status: 200, text: JSON.stringify(result) });
}

function eventsQuery(params: URLSearchParams): EventsQuery {
  const int = (name: string, max: number) => {
    const v = params.get(name) ?? '';
    if (!/^(?:0|[1-9][0-9]{0,15})$/.test(v) || Number(v) > max) {
      throw new CandidateError(
        'bad_request',
        `${name} must be an integer 0..${max} (got ${JSON.stringify(v)})`,
        400,
      );
    }
    return Number(v);
  };
  return { after: int('after', Number.MAX_SAFE_INTEGER), wait: int('wait', MAX_WAIT_MS) };
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () => {
      if (size > max) reject(new CandidateError('too_large', `the request is larger than ${max} bytes`, 413));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CandidateError('bad_request', `the body is not JSON: ${(e as Error).message}`, 400);
  }
}

function answer(res: ServerResponse, a: { readonly status: number; readonly text: string }): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.text);
}
