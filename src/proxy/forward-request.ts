import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { errnoCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { sendS3Error } from '../s3/error-response.js';
import { filterResponseHeaders, type ScannedRequestHeaders } from './hop-by-hop.js';
import type { LogThrottle } from './log-throttle.js';
import type { Route } from './route-index.js';
import { mapUpstreamFailure, UpstreamIdleTimeoutError, type ProxyFailure } from './upstream-errors.js';

/** Settings shared by every forwarded request. */
export interface ForwardSettings {
  logger: Logger;
  throttle: LogThrottle;
  retryAfterSeconds: number;
  /** The upstream request fails when its socket has no traffic for this long. */
  upstreamIdleTimeoutMs: number;
}

/**
 * Methods for which Node's HTTP client sends `Transfer-Encoding: chunked` when a request
 * has neither Content-Length nor Transfer-Encoding (lib/_http_client.js, Node 20).
 */
const METHODS_WITHOUT_DEFAULT_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Forwards one request to the tenant's server and relays the response, streaming both
 * bodies with backpressure. With `expectContinue`, the body is sent only after the
 * upstream sends 100 Continue, so an early rejection (such as 403) reaches the client
 * before it uploads anything.
 */
export function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  headers: ScannedRequestHeaders,
  expectContinue: boolean,
  settings: ForwardSettings,
): void {
  const upstreamReq = openUpstreamRequest(req, res, route, headers, settings);
  if (upstreamReq === undefined) {
    return;
  }

  const exchange: Exchange = { req, res, upstreamReq, route, settings, settled: false };
  upstreamReq.on('response', (upstreamRes) => relayResponse(exchange, upstreamRes));

  upstreamReq.on('timeout', () => upstreamReq.destroy(new UpstreamIdleTimeoutError(settings.upstreamIdleTimeoutMs)));

  upstreamReq.on('error', (error) => failExchange(exchange, error));

  // A client that goes away mid-request or mid-response aborts the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) {
      exchange.settled = true;
      upstreamReq.destroy();
    }
  });
  req.on('error', () => upstreamReq.destroy());

  if (expectContinue) {
    upstreamReq.once('continue', () => {
      res.writeContinue();
      pipeRequestBody(req, upstreamReq, headers);
    });
  } else {
    pipeRequestBody(req, upstreamReq, headers);
  }
}

/** Sends an S3 error for a request the proxy does not forward, with Retry-After for 503. */
export function sendFailure(
  res: ServerResponse,
  failure: ProxyFailure,
  method: string | undefined,
  retryAfterSeconds: number,
): void {
  const headers = failure.retryAfter ? { 'Retry-After': String(retryAfterSeconds) } : undefined;
  sendS3Error(res, failure.error, { method, headers });
}

function openUpstreamRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  headers: ScannedRequestHeaders,
  settings: ForwardSettings,
): ClientRequest | undefined {
  const method = req.method ?? 'GET';
  const outgoing = headers.forward;
  if (!headers.hasContentLength && !headers.hasTransferEncoding && !METHODS_WITHOUT_DEFAULT_BODY.has(method)) {
    // The request has no body. Node would add Transfer-Encoding: chunked, which servers
    // may reject on PUT for lack of a length, so the empty body gets an explicit length.
    outgoing.push('Content-Length', '0');
  }

  const { upstream } = route;
  try {
    return upstream.request({
      hostname: upstream.hostname,
      port: upstream.port,
      method,
      path: req.url,
      headers: outgoing,
      agent: upstream.agent,
      setHost: false,
      timeout: settings.upstreamIdleTimeoutMs,
    });
  } catch (error) {
    // Node's client checks the path and header values more strictly than its parser
    // checks incoming ones, such as control characters in a value.
    settings.logger.debug({ tenant: route.tenant, code: errnoCode(error) }, 'request not forwardable');
    sendS3Error(
      res,
      { status: 400, code: 'InvalidRequest', message: 'The request line or a header contains characters that cannot be forwarded.' },
      { method },
    );
    return undefined;
  }
}

function pipeRequestBody(req: IncomingMessage, upstreamReq: ClientRequest, headers: ScannedRequestHeaders): void {
  if (headers.hasTransferEncoding) {
    // Registered before pipe(), so the trailers are added before pipe() ends the request.
    req.once('end', () => {
      if (req.rawTrailers.length > 0) {
        upstreamReq.addTrailers(pairUp(req.rawTrailers));
      }
    });
  }
  req.pipe(upstreamReq);
}

/** One forwarded request. `settled` is set once the outcome is decided, so that errors caused by cleanup are ignored. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  upstreamReq: ClientRequest;
  route: Route;
  settings: ForwardSettings;
  settled: boolean;
}

/** Handles an upstream failure: an S3 error before the response started, a cut connection after. */
function failExchange(exchange: Exchange, error: Error): void {
  const { req, res, upstreamReq, route, settings } = exchange;
  if (exchange.settled) {
    return;
  }
  exchange.settled = true;
  req.unpipe(upstreamReq);
  upstreamReq.destroy();
  reportUpstreamError(route, error, res.headersSent, settings);
  if (res.headersSent) {
    // The client already has a status line, so only a cut connection signals that the body is incomplete.
    res.destroy();
    return;
  }
  sendFailure(res, mapUpstreamFailure(error, route.tenant), req.method, settings.retryAfterSeconds);
}

function relayResponse(exchange: Exchange, upstreamRes: IncomingMessage): void {
  const { req, res, upstreamReq } = exchange;
  const isHttp10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
  const headers = filterResponseHeaders(upstreamRes.rawHeaders, isHttp10);
  res.sendDate = false;
  try {
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
  } catch {
    // Node rejects some headers that its parser accepted, such as Trailer without chunking.
    exchange.settled = true;
    upstreamReq.destroy();
    sendS3Error(res, { status: 502, code: 'BadGateway', message: 'The tenant server sent an invalid response header.' });
    return;
  }

  upstreamRes.once('end', () => {
    exchange.settled = true;
    if (upstreamRes.rawTrailers.length > 0) {
      res.addTrailers(pairUp(upstreamRes.rawTrailers));
    }
    if (!upstreamReq.writableEnded) {
      // The upstream responded before the whole body was sent (or, after Expect, before
      // any of it), so the connection cannot be reused.
      req.unpipe(upstreamReq);
      upstreamReq.destroy();
    }
  });
  // Node emits 'error' when the upstream connection closes mid-body.
  upstreamRes.on('error', (error) => failExchange(exchange, error));
  upstreamRes.pipe(res);
}

function reportUpstreamError(route: Route, error: Error, responseStarted: boolean, settings: ForwardSettings): void {
  const code = errnoCode(error) ?? error.name;
  const suppressed = settings.throttle.admit(`${route.tenant}\0${code}`);
  if (suppressed === undefined) {
    return;
  }
  settings.logger.warn(
    { tenant: route.tenant, upstream: route.upstream.origin, code, responseStarted, suppressed },
    'upstream request failed',
  );
}

/** Turns a flat [name, value, …] list into the pairs that addTrailers accepts. */
function pairUp(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) {
    pairs.push([raw[i] as string, raw[i + 1] as string]);
  }
  return pairs;
}
