import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { errnoCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { sendS3Error } from '../s3/error-response.js';
import { mayBeAssumeRole, teeAssumeRoleResponse } from './assume-role-tee.js';
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
  /** The scheme clients use to reach the proxy, sent as X-Forwarded-Proto. */
  forwardedProto: 'http' | 'https';
  /** Max bytes of an STS response read for the temporary access key it issues. */
  maxAssumeRoleResponseBytes: number;
  /** Records a temporary access key that a tenant's server issued through STS. */
  learnTemporaryKey: (tenant: string, accessKey: string, expiresAtMs: number) => void;
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
  bodyPrefix?: readonly Buffer[],
): void {
  const exchange: Exchange = {
    req,
    res,
    route,
    settings,
    headers,
    outgoingHeaders: outgoingHeaders(req, headers, settings.forwardedProto),
    upstreamReq: undefined,
    retryOnStaleSocket: !expectContinue && !hasBody(headers),
    settled: false,
    bodyPrefix,
    mayBeAssumeRole: mayBeAssumeRole(req),
  };

  // A client that goes away mid-request or mid-response aborts the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) {
      exchange.settled = true;
      exchange.upstreamReq?.destroy();
    }
  });
  req.on('error', () => exchange.upstreamReq?.destroy());
  // A request destroyed before its body was complete (a timed-out upload) emits no 'error'.
  req.on('close', () => {
    if (!req.complete) {
      exchange.upstreamReq?.destroy();
    }
  });

  sendUpstream(exchange, expectContinue, false);
}

/**
 * Sends an S3 error for a request the proxy does not forward, with Retry-After for 503.
 * `closeConnection` is for requests whose body was not read: the connection closes
 * after the error instead of reading the rest of the body.
 */
export function sendFailure(
  res: ServerResponse,
  failure: ProxyFailure,
  method: string | undefined,
  retryAfterSeconds: number,
  closeConnection = false,
): void {
  const headers: Record<string, string> = {};
  if (failure.retryAfter) {
    headers['Retry-After'] = String(retryAfterSeconds);
  }
  if (closeConnection) {
    headers.Connection = 'close';
  }
  sendS3Error(res, failure.error, { method, headers });
}

/**
 * Returns the headers to send upstream: the forwarded ones, X-Forwarded-For and
 * X-Forwarded-Proto, and `Content-Length: 0` where Node would otherwise invent a body.
 * A request without Content-Length and Transfer-Encoding has no body, but Node sends it
 * with Transfer-Encoding: chunked unless the method is in METHODS_WITHOUT_DEFAULT_BODY.
 * Servers may reject a chunked PUT for lack of a length, hence the explicit zero.
 */
function outgoingHeaders(req: IncomingMessage, headers: ScannedRequestHeaders, proto: 'http' | 'https'): string[] {
  // `forward` was built for this request alone, so it is extended in place.
  const forward = headers.forward;
  addForwardedHeaders(forward, req, headers, proto);
  const method = req.method ?? 'GET';
  if (headers.contentLength === undefined && !headers.hasTransferEncoding && !METHODS_WITHOUT_DEFAULT_BODY.has(method)) {
    forward.push('Content-Length', '0');
  }
  return forward;
}

/**
 * Appends the client's address to X-Forwarded-For (or adds the header) and adds
 * X-Forwarded-Proto unless a proxy in front, such as a TLS-terminating load balancer,
 * already set it. S3 clients do not sign these headers, since they are not there when
 * the client signs. A client that did sign its own X-Forwarded-For (it appears in
 * SignedHeaders) gets it unchanged, because a changed value would fail the signature.
 */
function addForwardedHeaders(forward: string[], req: IncomingMessage, headers: ScannedRequestHeaders, proto: 'http' | 'https'): void {
  const address = req.socket.remoteAddress;
  if (address !== undefined) {
    if (!headers.hasForwardedFor) {
      forward.push('X-Forwarded-For', address);
    } else if (!signsForwardedFor(req, headers) && !appendToLastForwardedFor(forward, address)) {
      // Connection named X-Forwarded-For, so the scan saw it but it is not forwarded.
      forward.push('X-Forwarded-For', address);
    }
  }
  if (!headers.hasForwardedProto) {
    forward.push('X-Forwarded-Proto', proto);
  }
}

/** SigV4 lists signed header names in lower case, in SignedHeaders or X-Amz-SignedHeaders. */
function signsForwardedFor(req: IncomingMessage, headers: ScannedRequestHeaders): boolean {
  return headers.authorization.some((value) => value.includes('x-forwarded-for')) || (req.url ?? '').includes('x-forwarded-for');
}

/** Adds `, <address>` to the last X-Forwarded-For field, so the list stays in hop order (RFC 7239 section 5.2 describes the same list for Forwarded). */
function appendToLastForwardedFor(forward: string[], address: string): boolean {
  for (let i = forward.length - 2; i >= 0; i -= 2) {
    if ((forward[i] as string).toLowerCase() === 'x-forwarded-for') {
      forward[i + 1] = `${forward[i + 1] as string}, ${address}`;
      return true;
    }
  }
  return false;
}

function hasBody(headers: ScannedRequestHeaders): boolean {
  return headers.hasTransferEncoding || (headers.contentLength !== undefined && headers.contentLength !== '0');
}

/** Opens the upstream request and wires its events; `isRetry` sends the (empty) body at once. */
function sendUpstream(exchange: Exchange, expectContinue: boolean, isRetry: boolean): void {
  const upstreamReq = openUpstreamRequest(exchange);
  if (upstreamReq === undefined) {
    return;
  }
  exchange.upstreamReq = upstreamReq;

  const { req, res, headers, settings } = exchange;
  upstreamReq.on('response', (upstreamRes) => relayResponse(exchange, upstreamReq, upstreamRes));
  upstreamReq.on('timeout', () => upstreamReq.destroy(new UpstreamIdleTimeoutError(settings.upstreamIdleTimeoutMs)));
  upstreamReq.on('error', (error) => onUpstreamError(exchange, upstreamReq, error));

  if (isRetry) {
    upstreamReq.end();
  } else if (expectContinue) {
    upstreamReq.once('continue', () => {
      res.writeContinue();
      pipeRequestBody(req, upstreamReq, headers, exchange.bodyPrefix);
    });
  } else {
    pipeRequestBody(req, upstreamReq, headers, exchange.bodyPrefix);
  }
}

function openUpstreamRequest(exchange: Exchange): ClientRequest | undefined {
  const { req, res, route, settings } = exchange;
  const { upstream } = route;
  try {
    return upstream.request({
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: exchange.outgoingHeaders,
      agent: upstream.agent,
      setHost: false,
      timeout: settings.upstreamIdleTimeoutMs,
    });
  } catch (error) {
    // Node's client checks the path and header values more strictly than its parser
    // checks incoming ones, such as control characters in a value.
    exchange.settled = true;
    settings.logger.debug({ tenant: route.tenant, code: errnoCode(error) }, 'request not forwardable');
    sendS3Error(
      res,
      { status: 400, code: 'InvalidRequest', message: 'The request line or a header contains characters that cannot be forwarded.' },
      { method: req.method },
    );
    return undefined;
  }
}

/**
 * Retries once on a new connection when a reused keep-alive connection was reset before
 * any response, which happens when the server closed it just as the proxy reused it.
 * Only requests without a body qualify, because a body already streamed cannot be replayed.
 * Node's documentation of `request.reusedSocket` describes this race.
 */
function onUpstreamError(exchange: Exchange, upstreamReq: ClientRequest, error: Error): void {
  const code = errnoCode(error);
  const staleSocket = upstreamReq.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
  if (staleSocket && exchange.retryOnStaleSocket && !exchange.settled && !exchange.res.headersSent) {
    exchange.retryOnStaleSocket = false;
    exchange.settings.logger.debug({ tenant: exchange.route.tenant, code }, 'retrying on a new upstream connection');
    sendUpstream(exchange, false, true);
    return;
  }
  failExchange(exchange, upstreamReq, error);
}

/** Streams the request body upstream, after `bodyPrefix`, the bytes already read from `req`. */
function pipeRequestBody(
  req: IncomingMessage,
  upstreamReq: ClientRequest,
  headers: ScannedRequestHeaders,
  bodyPrefix: readonly Buffer[] | undefined,
): void {
  for (const chunk of bodyPrefix ?? []) {
    upstreamReq.write(chunk);
  }
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

/** One forwarded request. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  route: Route;
  settings: ForwardSettings;
  headers: ScannedRequestHeaders;
  outgoingHeaders: string[];
  /** The current upstream attempt. */
  upstreamReq: ClientRequest | undefined;
  retryOnStaleSocket: boolean;
  /** Set once the outcome is decided, so that errors caused by cleanup are ignored. */
  settled: boolean;
  /** Body bytes read before forwarding started (a form scanned for its credential), sent first. */
  bodyPrefix: readonly Buffer[] | undefined;
  /** The response may carry STS credentials to learn. */
  mayBeAssumeRole: boolean;
}

/** Handles an upstream failure: an S3 error before the response started, a cut connection after. */
function failExchange(exchange: Exchange, upstreamReq: ClientRequest, error: Error): void {
  const { req, res, route, settings } = exchange;
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
  sendFailure(res, mapUpstreamFailure(error), req.method, settings.retryAfterSeconds);
}

function relayResponse(exchange: Exchange, upstreamReq: ClientRequest, upstreamRes: IncomingMessage): void {
  const { req, res } = exchange;
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
  upstreamRes.on('error', (error) => failExchange(exchange, upstreamReq, error));
  if (exchange.mayBeAssumeRole) {
    const { route, settings } = exchange;
    teeAssumeRoleResponse(upstreamRes, settings.maxAssumeRoleResponseBytes, (credential) =>
      settings.learnTemporaryKey(route.tenant, credential.accessKeyId, credential.expiresAtMs),
    );
  }
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
