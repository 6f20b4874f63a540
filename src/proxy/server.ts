import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { errnoCode, TenantsError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { sendS3Error } from '../s3/error-response.js';
import { handleClientError, handleSocketTimeout } from './client-errors.js';
import { forwardFormUpload, formUploadBoundary } from './form-upload.js';
import { forwardRequest, sendFailure, type ForwardSettings } from './forward-request.js';
import { scanRequestHeaders } from './hop-by-hop.js';
import { clientUrl, formatHostPort, parseProxyListen, type ProxyListenAddress } from './listen-address.js';
import { LogThrottle } from './log-throttle.js';
import { DEFAULT_PROXY_LIMITS, type ProxyLimits } from './proxy-limits.js';
import { LearnedKeys, type TemporaryKey } from './learned-keys.js';
import { RouteIndex } from './route-index.js';
import { RoutesReloader } from './routes-reloader.js';
import { selectRoute } from './select-route.js';
import { UpstreamPool } from './upstream-pool.js';
import { CertificateWatcher, loadCertificate, type LoadedCertificate, type ProxyTlsFiles } from './tls-certificate.js';

export { DEFAULT_PROXY_LIMITS, type ProxyLimits } from './proxy-limits.js';
export type { ProxyTlsFiles } from './tls-certificate.js';
export type { TemporaryKey } from './learned-keys.js';

export interface ProxyOptions {
  /** The routing table (`routes.json`). It may be missing at start: every request then gets 503. */
  routesFile: string;
  /** `host:port`; port 0 picks a free port, IPv6 as `[::1]:9000`. */
  listen: string;
  logger?: Logger;
  /** Value of Retry-After on 503 responses; default 1. */
  retryAfterSeconds?: number;
  /** Overrides for timeouts and size limits, mostly for tests. */
  limits?: Partial<ProxyLimits>;
  /** Serve HTTPS with these PEM files, reloaded when they change; plain HTTP without. */
  tls?: ProxyTlsFiles;
  /**
   * Called with each temporary key that this proxy learned from an STS response, so that a
   * cluster worker can send it to the other workers. Not called for keys from `learnKey()`.
   */
  onKeyLearned?: (key: TemporaryKey) => void;
}

export interface ProxyHandle {
  /** The bound address as `host:port`, such as `127.0.0.1:41235`. */
  address: string;
  port: number;
  /** Base URL for S3 clients on this machine, `https://` with TLS. */
  url: string;
  /** Rereads the routing table now. Rejects when it is missing or invalid; the previous table stays in use. */
  reload(): Promise<void>;
  /** Stops accepting connections and resolves once requests in flight have finished. */
  close(): Promise<void>;
  /** Drops every connection now, including requests in flight. */
  destroy(): void;
}

/** A proxy in this process, which also accepts temporary keys that another proxy learned. */
export interface LocalProxyHandle extends ProxyHandle {
  /**
   * Routes `key.accessKey` to `key.tenant` until it expires, as if this proxy had seen the
   * STS response. Returns false when the key has expired, is configured, or its tenant is
   * not in the current table.
   */
  learnKey(key: TemporaryKey): boolean;
}

/**
 * Starts the S3 proxy: loads the routing table, listens, then watches the table for
 * changes. Rejects with a TenantsError when the address is invalid or taken, or when the
 * routing table exists but is invalid.
 */
export async function startProxy(options: ProxyOptions): Promise<LocalProxyHandle> {
  const listen = parseProxyListen(options.listen);
  const logger = options.logger ?? silentLogger();
  const limits: ProxyLimits = { ...DEFAULT_PROXY_LIMITS, ...options.limits };

  const pool = new UpstreamPool(limits);
  const learned = new LearnedKeys(limits.maxLearnedKeys);
  const reloader = new RoutesReloader({
    file: options.routesFile,
    logger,
    buildIndex: (table) => new RouteIndex(table, pool, learned),
    debounceMs: limits.reloadDebounceMs,
    pollIntervalMs: limits.reloadPollIntervalMs,
  });
  await loadInitialTable(reloader);
  const certificate = options.tls === undefined ? undefined : await loadCertificate(options.tls);

  const settings: ForwardSettings = {
    logger,
    throttle: new LogThrottle(limits.errorLogIntervalMs),
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    upstreamIdleTimeoutMs: limits.upstreamIdleTimeoutMs,
    forwardedProto: certificate === undefined ? 'http' : 'https',
    maxAssumeRoleResponseBytes: limits.maxAssumeRoleResponseBytes,
    learnTemporaryKey: (tenant, accessKey, expiresAtMs) => {
      if (learnTemporaryKey(reloader, logger, tenant, accessKey, expiresAtMs)) {
        options.onKeyLearned?.({ accessKey, tenant, expiresAtMs });
      }
    },
  };
  const lifecycle = { closing: false };
  const server = createProxyServer(reloader, settings, limits, lifecycle, certificate);
  try {
    await listenOn(server, listen);
  } catch (error) {
    pool.destroy();
    throw error;
  }
  reloader.start();
  const certificates = await watchCertificate(server, options.tls, limits, logger);

  const bound = server.address() as AddressInfo;
  const handle = createHandle(server, bound, { reloader, pool, lifecycle, logger, certificates, scheme: settings.forwardedProto });
  logger.info({ address: handle.address, url: handle.url, routesFile: options.routesFile }, 'proxy listening');
  return { ...handle, learnKey: (key) => reloader.current?.learnAccessKey(key.accessKey, key.tenant, key.expiresAtMs) ?? false };
}

/**
 * Adds a temporary key from an STS response to the current table's tenant. The secret
 * key and session token are never parsed, so they cannot reach this log line.
 */
function learnTemporaryKey(reloader: RoutesReloader, logger: Logger, tenant: string, accessKey: string, expiresAtMs: number): boolean {
  const learned = reloader.current?.learnAccessKey(accessKey, tenant, expiresAtMs) ?? false;
  const expiration = new Date(expiresAtMs).toISOString();
  if (learned) {
    logger.info({ tenant, accessKey, expiration }, 'temporary access key learned');
  } else {
    logger.debug({ tenant, accessKey, expiration }, 'temporary access key not learned: expired, configured, or tenant gone');
  }
  return learned;
}

/** Starts reloading the TLS files on change, for an HTTPS proxy. */
async function watchCertificate(
  server: Server,
  files: ProxyTlsFiles | undefined,
  limits: ProxyLimits,
  logger: Logger,
): Promise<CertificateWatcher | undefined> {
  if (files === undefined) {
    return undefined;
  }
  const watcher = new CertificateWatcher({
    files,
    logger,
    // New connections get the new certificate; established ones keep theirs.
    apply: (certificate) => (server as unknown as https.Server).setSecureContext({ cert: certificate.cert, key: certificate.key }),
    debounceMs: limits.reloadDebounceMs,
    pollIntervalMs: limits.reloadPollIntervalMs,
  });
  await watcher.start();
  return watcher;
}

/** Loads the table at start. A missing file is allowed (requests get 503 until it appears), an invalid one is not. */
async function loadInitialTable(reloader: RoutesReloader): Promise<void> {
  try {
    await reloader.reload();
  } catch (error) {
    if (error instanceof TenantsError && error.code === 'ROUTES_MISSING') {
      return;
    }
    throw error;
  }
}

function createProxyServer(
  reloader: RoutesReloader,
  settings: ForwardSettings,
  limits: ProxyLimits,
  lifecycle: { closing: boolean },
  certificate: LoadedCertificate | undefined,
): Server {
  const httpOptions: http.ServerOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    // 0 turns off Node's limit on the whole request, which would cut long uploads.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    // Checked in handleRequest instead, so that the client gets an S3 XML error.
    requireHostHeader: false,
  };
  const server =
    certificate === undefined
      ? http.createServer(httpOptions)
      : (https.createServer({ ...httpOptions, cert: certificate.cert, key: certificate.key }) as unknown as Server);
  server.timeout = limits.socketIdleTimeoutMs;

  const handleRequest = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void => {
    try {
      routeAndForward(req, res, expectContinue, reloader, settings, limits, lifecycle);
    } catch (error) {
      settings.logger.error({ err: error, method: req.method }, 'proxy request handler failed');
      sendS3Error(res, { status: 500, code: 'InternalError', message: 'The proxy failed to handle the request.' }, { method: req.method });
    }
  };
  server.on('request', (req, res) => handleRequest(req, res, false));
  server.on('checkContinue', (req, res) => handleRequest(req, res, true));
  // Expect values other than 100-continue are the upstream's to judge.
  server.on('checkExpectation', (req, res) => handleRequest(req, res, false));
  server.on('clientError', (error, socket) => handleClientError(error, socket, settings.logger));
  // With this listener Node no longer destroys idle sockets itself; handleSocketTimeout does.
  server.on('timeout', (socket: Duplex) => handleSocketTimeout(socket, settings.logger));
  // Failed handshakes (a client that does not trust the certificate, plain HTTP on the TLS port) are the client's problem.
  server.on('tlsClientError', (error: Error & { code?: string }) => settings.logger.debug({ code: error.code }, 'tls handshake failed'));
  server.on('error', (error) => settings.logger.error({ err: error }, 'proxy server error'));
  return server;
}

function routeAndForward(
  req: IncomingMessage,
  res: ServerResponse,
  expectContinue: boolean,
  reloader: RoutesReloader,
  settings: ForwardSettings,
  limits: ProxyLimits,
  lifecycle: { closing: boolean },
): void {
  if (lifecycle.closing) {
    res.shouldKeepAlive = false;
  }
  const headers = scanRequestHeaders(req.rawHeaders);
  if (headers.host === undefined && req.httpVersionMinor === 1) {
    // RFC 9112 section 3.2: a server must respond with 400 to an HTTP/1.1 request without Host.
    sendS3Error(res, { status: 400, code: 'InvalidRequest', message: 'The request has no Host header.' }, { method: req.method });
    return;
  }

  const boundary = formUploadBoundary(req, headers);
  if (boundary !== undefined && reloader.current !== undefined) {
    const context = { currentIndex: () => reloader.current, headers, expectContinue, settings, maxPrefixBytes: limits.maxFormPrefixBytes };
    forwardFormUpload(req, res, boundary, context);
    return;
  }

  const selection = selectRoute(reloader.current, req.url ?? '/', headers.authorization, headers.host);
  if (selection.failure !== undefined) {
    sendFailure(res, selection.failure, req.method, settings.retryAfterSeconds);
    return;
  }
  forwardRequest(req, res, selection.route, headers, expectContinue, settings);
}

async function listenOn(server: Server, listen: ProxyListenAddress): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(listenError(error, listen));
    server.once('error', onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function listenError(error: Error, listen: ProxyListenAddress): TenantsError {
  const address = formatHostPort(listen.host, listen.port);
  const code = errnoCode(error);
  let advice: string;
  switch (code) {
    case 'EADDRINUSE':
      advice = 'the address is already in use; stop the process that listens there or choose another port';
      break;
    case 'EACCES':
      advice = 'permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, so choose a port above 1023';
      break;
    case 'EADDRNOTAVAIL':
      advice = 'the address is not assigned to this machine; use 127.0.0.1, 0.0.0.0 or a local interface address';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      advice = 'the host name does not resolve; use an IP address';
      break;
    default:
      advice = error.message;
  }
  return new TenantsError('PROXY_LISTEN_FAILED', `cannot listen on ${address}: ${advice} (${code ?? 'error'})`, { cause: error });
}

/** Parts of a running proxy that its handle stops on close. */
interface ProxyParts {
  reloader: RoutesReloader;
  pool: UpstreamPool;
  lifecycle: { closing: boolean };
  logger: Logger;
  certificates: CertificateWatcher | undefined;
  scheme: 'http' | 'https';
}

function createHandle(server: Server, bound: AddressInfo, parts: ProxyParts): ProxyHandle {
  const { reloader, pool, lifecycle, logger, certificates } = parts;
  let closed: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      lifecycle.closing = true;
      reloader.stop();
      certificates?.stop();
      // server.close() closes idle keep-alive connections once; connections that become
      // idle later, when their request finishes, are closed by this sweep.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearInterval(sweep);
        pool.destroy();
        logger.info({ address: formatHostPort(bound.address, bound.port) }, 'proxy closed');
        resolve();
      });
    });
    return closed;
  };

  const destroy = (): void => {
    void close();
    server.closeAllConnections();
    pool.destroy();
  };

  return {
    address: formatHostPort(bound.address, bound.port),
    port: bound.port,
    url: clientUrl(bound.address, bound.port, parts.scheme),
    reload: () => reloader.reload(),
    close,
    destroy,
  };
}
