import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendS3Error } from '../s3/error-response.js';
import { authenticate, type PayloadCheck } from './auth/authenticate.js';
import type { TemporaryCredentialStore } from './auth/temporary-credentials.js';
import { parseBucketPolicy, policyAllowsAnonymous } from './bucket-policy.js';
import { applyCors } from './cors.js';
import type { FaultRuntime } from './fault-runtime.js';
import { parseRequestTarget, type RequestContext } from './request-context.js';
import type { RootCredentials } from './root-credentials.js';
import { routeRequest, type Route } from './router.js';
import { S3Error, accessDenied } from './s3-error.js';
import type { FsStore } from './store/fs-store.js';
import { MultipartStore } from './store/multipart-store.js';
import { StsError, sendStsError } from './sts/sts-error.js';

export interface DevServerOptions {
  store: FsStore;
  credentials: RootCredentials;
  /** The credentials that STS AssumeRole issued, accepted next to the root credentials. */
  temporaryCredentials: TemporaryCredentialStore;
  faults: FaultRuntime;
  /** Writes one line per request when set; query strings are never logged since they may hold signatures. */
  logRequest?: (line: string) => void;
  logError: (line: string) => void;
}

/** The largest unread request body that is drained after an error instead of closing the connection. */
const MAX_DRAINED_BODY_BYTES = 64 * 1024 * 1024;

/** MinIO's health endpoints: https://min.io/docs/minio/linux/operations/monitoring/healthcheck-probe.html */
const HEALTH_PATHS = new Set(['/minio/health/live', '/minio/health/ready', '/minio/health/cluster', '/minio/health/cluster/read']);

/** Creates the HTTP server; the caller listens and closes it. */
export function createDevServer(options: DevServerOptions): Server {
  const multipart = new MultipartStore(options.store);
  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    void handleRequest(req, res, expectsContinue, options, multipart);
  };

  const server = createServer();
  server.on('request', (req, res) => handle(req, res, false));
  // With a checkContinue listener Node leaves the 100 Continue to us: it is sent only after
  // the request is authenticated, so a rejected client never sends its body.
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('clientError', (error, socket) => {
    if (socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    options.logError(`client error: ${(error as Error).message}`);
  });
  return server;
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  expectsContinue: boolean,
  options: DevServerOptions,
  multipart: MultipartStore,
): Promise<void> {
  const startedMs = Date.now();
  const rawPath = (req.url ?? '/').split('?')[0]!;
  const isHealthCheck = HEALTH_PATHS.has(rawPath);
  res.on('finish', () => {
    options.logRequest?.(`${req.method} ${rawPath} ${res.statusCode} ${Date.now() - startedMs}ms`);
    options.faults.requestFinished(isHealthCheck);
  });

  if (isHealthCheck) {
    respondToHealthCheck(req, res, options.faults);
    return;
  }
  if (applyCors(req, res)) {
    return;
  }

  let continued = false;
  try {
    const context = parseRequestTarget(req.method ?? 'GET', req.url ?? '/', req.headers, req.rawHeaders);
    const route = routeRequest(context);
    const payload = await authorize(context, route, options);
    if (expectsContinue) {
      res.writeContinue();
      continued = true;
    }
    await route.handler({
      req,
      res,
      context,
      payload,
      store: options.store,
      multipart,
      credentials: options.credentials,
      temporaryCredentials: options.temporaryCredentials,
    });
  } catch (error) {
    sendError(req, res, error, options, expectsContinue && !continued);
  }
}

/** Authenticates the request, or for an anonymous one checks the bucket policy. */
async function authorize(context: RequestContext, route: Route, options: DevServerOptions): Promise<PayloadCheck> {
  if (route.authenticatesItself === true) {
    return { kind: 'none' };
  }
  const result = authenticate(context, { root: options.credentials, temporary: options.temporaryCredentials }, new Date());
  if (result.kind === 'signed') {
    return result.payload;
  }

  const bucket = context.bucket;
  if (route.anonymous === undefined || bucket === undefined || !(await options.store.bucketExists(bucket))) {
    throw accessDenied('Access Denied: the request is not signed; sign it with the server credentials');
  }
  const policy = await options.store.getBucketPolicy(bucket);
  const allowed =
    policy !== undefined && policyAllowsAnonymous(parseBucketPolicy(policy, bucket), route.anonymous.action, route.anonymous.resource);
  if (!allowed) {
    throw accessDenied('Access Denied: the request is not signed and no bucket policy allows it for anonymous users');
  }
  return { kind: 'none' };
}

function respondToHealthCheck(req: IncomingMessage, res: ServerResponse, faults: FaultRuntime): void {
  if (!faults.healthAnswerable()) {
    // The fault hook simulates a server that stopped responding: the request is left open.
    return;
  }
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  options: DevServerOptions,
  bodyWithheld: boolean,
): void {
  const known = error instanceof S3Error || error instanceof StsError;
  if (!known) {
    options.logError(`internal error on ${req.method} ${(req.url ?? '').split('?')[0]}: ${(error as Error)?.stack ?? String(error)}`);
  }

  // The unread rest of a small body is read and dropped, so the client can finish sending and
  // read the error. A large or unknown-length body, or one the client holds back waiting for
  // 100 Continue, closes the connection instead.
  const contentLength = Number(req.headers['content-length']);
  const closeConnection =
    !req.readableEnded && (bodyWithheld || !(contentLength <= MAX_DRAINED_BODY_BYTES));
  if (!req.readableEnded && !closeConnection) {
    req.resume();
  }
  const headers: Record<string, string> = closeConnection ? { Connection: 'close' } : {};
  if (error instanceof StsError) {
    sendStsError(res, error, headers);
    return;
  }
  const s3Error =
    error instanceof S3Error ? error : new S3Error(500, 'InternalError', 'the server failed to process the request; see its log');
  sendS3Error(res, s3Error.toBody(), { headers, method: req.method ?? 'GET' });
}
