// The plain-HTTP side of the server's one port (PROFILE.md §2.1): enlistment, the push key set,
// media, and a health check. WebSocket upgrades never come here: the transport listens for the
// server's 'upgrade' event, and node:http hands upgrade requests to that listener instead.
//
// The handler never throws: an unexpected error is answered 500 and recorded as HRN_ERR_INTERNAL,
// which is the harness's fault, never the candidate's.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { createEnlistLimiter, handleEnlistment, refuseEnlistment } from './enlist.ts';
import type { HostedMediaService } from './media-service.ts';
import { handleMediaDownload, handleMediaUpload, readBodyLimited, sendJson } from './media-service.ts';
import type { Clock, Enlister, TokenVerifier, TranscriptSink } from './types.ts';

/** The enlistment form is a few hundred bytes plus a token of at most 4096 characters. */
export const ENLIST_MAX_BODY_BYTES = 16 * 1024;

export interface HttpHandlerOptions {
  readonly enlistment: { readonly verifier: TokenVerifier; readonly enlister: Enlister };
  readonly media: HostedMediaService;
  readonly push: { jwks(): JSONWebKeySet };
  readonly transcript: TranscriptSink;
  readonly clock: Clock;
  /** Limit of the enlistment body; larger ones fail `bad_request` unread. Media has its own limit. */
  readonly maxBodyBytes?: number;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

type Route = 'enlist' | 'jwks' | 'upload' | 'download' | 'health' | 'chat';

const ALLOWED: Record<Route, string> = {
  enlist: 'POST',
  jwks: 'GET',
  upload: 'POST',
  download: 'GET',
  health: 'GET',
  chat: 'GET',
};

function route(pathname: string): Route | undefined {
  if (pathname === '/3p/interop_reg') return 'enlist';
  if (pathname === '/.well-known/jwks.json') return 'jwks';
  if (pathname === '/health') return 'health';
  if (pathname === '/ws/chat') return 'chat';
  if (/^\/mms\/[^/]+\/[^/]+$/.test(pathname)) return 'upload';
  if (pathname.startsWith('/v/')) return 'download';
  return undefined;
}

export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const { transcript, media, clock } = options;
  const maxBodyBytes = options.maxBodyBytes ?? ENLIST_MAX_BODY_BYTES;
  const limiter = createEnlistLimiter(clock);
  const mediaDeps = { media, transcript, clock };

  async function enlist(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every answer is HTTP 200 with JSON (§5.1 step 5), even for a body never read.
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') {
      const result = refuseEnlistment(
        transcript,
        'bad_request',
        `content type is ${JSON.stringify(req.headers['content-type'] ?? '')}, not application/x-www-form-urlencoded`,
      );
      sendJson(res, 200, replyOf(result), { close: true });
      return;
    }
    const read = await readBodyLimited(req, maxBodyBytes);
    if (!read.ok) {
      if (read.reason === 'aborted') {
        res.socket?.destroy();
        return;
      }
      const result = refuseEnlistment(transcript, 'bad_request', `body is larger than ${maxBodyBytes} bytes`);
      sendJson(res, 200, replyOf(result), { close: true });
      return;
    }
    const result = await handleEnlistment(read.bytes.toString('utf8'), {
      verifier: options.enlistment.verifier,
      enlister: options.enlistment.enlister,
      transcript,
      limiter,
    });
    sendJson(res, 200, replyOf(result));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = URL.parse(req.url ?? '/', 'http://server.invalid');
    // A request target no URL parser accepts is the client's error, not the harness's.
    if (url === null) {
      sendJson(res, 400, { error: 'bad_request' }, { close: hasBody(req) });
      return;
    }
    const which = route(url.pathname);
    if (which === undefined) {
      sendJson(res, 404, { error: 'not_found' }, { close: hasBody(req) });
      return;
    }
    if (req.method !== ALLOWED[which]) {
      sendJson(
        res,
        405,
        { error: 'method_not_allowed' },
        { close: hasBody(req), headers: { allow: ALLOWED[which] } },
      );
      return;
    }
    switch (which) {
      case 'enlist':
        return enlist(req, res);
      case 'jwks':
        return sendJson(res, 200, options.push.jwks());
      case 'health':
        return sendJson(res, 200, { status: 'ok' });
      case 'chat':
        // Only a request without an Upgrade reaches this handler: the transport takes the rest.
        return sendJson(res, 426, { error: 'upgrade_required' }, { headers: { upgrade: 'websocket' } });
      case 'upload':
        return handleMediaUpload(req, res, url, mediaDeps);
      case 'download':
        return handleMediaDownload(res, url, mediaDeps);
    }
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      try {
        transcript.event({
          event: 'http_error',
          detail: { code: 'HRN_ERR_INTERNAL', method: req.method, path: req.url, message },
        });
      } catch {
        // The transcript itself failing must not keep the client waiting.
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, { error: 'internal' }, { close: true });
    });
  };
}

/** The JSON of §5.1 step 5: the detail stays in the transcript, not in the reply. */
function replyOf(result: Awaited<ReturnType<typeof handleEnlistment>>): Record<string, string> {
  return result.status === 'ok'
    ? { login: result.login, status: 'ok' }
    : { status: 'fail', reason: result.reason };
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}
