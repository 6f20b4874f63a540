import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log/logger.js';
import { startProxy, type ProxyHandle, type ProxyOptions } from '../../src/proxy/server.js';
import { writeRoutesFile, type RouteEntry } from '../../src/routing/routes-file.js';

/** Closes everything a test opened, in reverse order. Call `run()` in afterEach. */
export class Cleanup {
  private readonly steps: Array<() => Promise<void> | void> = [];

  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop() as () => Promise<void> | void;
      await step();
    }
  }
}

export const SIGNATURE = '3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081';

/** Returns a SigV4 Authorization header value for `accessKey`; the proxy does not check the signature. */
export function sigV4(accessKey: string): string {
  return `AWS4-HMAC-SHA256 Credential=${accessKey}/20240102/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${SIGNATURE}`;
}

/** What the echo upstream saw of one request. */
export interface EchoReport {
  upstream: string;
  method: string;
  url: string;
  rawHeaders: string[];
  bodyBytes: number;
  bodySha256: string;
}

export interface EchoUpstream {
  name: string;
  url: string;
  port: number;
  server: http.Server;
  /** Requests that arrived with `Expect: 100-continue`, with the body bytes read from each. */
  rejectedBeforeBody: Array<Promise<number>>;
  /** Resolves with each request's report once its body has been fully read, keyed by path. */
  received: Map<string, EchoReport>;
  /** Listeners called on the first body bytes of a request, keyed by path. */
  onFirstBytes: Map<string, () => void>;
  /** Paths of requests whose connection closed before the body was complete. */
  aborted: string[];
}

/**
 * Starts a node:http server that responds to every request with a JSON EchoReport. Special
 * paths: `/reject/…` responds 403 to Expect: 100-continue without reading the body,
 * `/reset/…` sends headers and part of the body, then destroys the socket, and
 * `/download/<bytes>` and `/download-chunked/<bytes>` send a generatedBody.
 */
export async function startEchoUpstream(name: string, cleanup: Cleanup): Promise<EchoUpstream> {
  const server = http.createServer();
  const echo: Omit<EchoUpstream, 'url' | 'port'> = {
    name,
    server,
    rejectedBeforeBody: [],
    received: new Map(),
    onFirstBytes: new Map(),
    aborted: [],
  };

  server.on('checkContinue', (req, res) => {
    if (!req.url?.startsWith('/reject/')) {
      res.writeContinue();
      answerEcho(echo, req, res);
      return;
    }
    echo.rejectedBeforeBody.push(countBodyBytesUntilClose(req));
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('request', (req, res) => {
    const download = /^\/(download|download-chunked)\/(\d+)$/.exec(req.url ?? '');
    if (download !== null) {
      const size = Number(download[2]);
      res.writeHead(200, download[1] === 'download' ? { 'Content-Length': size } : { 'Transfer-Encoding': 'chunked' });
      generatedBody(size).stream.pipe(res);
      return;
    }
    if (req.url?.startsWith('/reset/')) {
      res.writeHead(200, { 'Content-Length': '100000' });
      res.write(Buffer.alloc(1000, 'x'), () => res.socket?.destroy());
      return;
    }
    answerEcho(echo, req, res);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => closeServer(server));
  const port = (server.address() as AddressInfo).port;
  return { ...echo, url: `http://127.0.0.1:${port}`, port };
}

function answerEcho(echo: Omit<EchoUpstream, 'url' | 'port'>, req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash('sha256');
  let bodyBytes = 0;
  req.on('data', (chunk: Buffer) => {
    if (bodyBytes === 0) {
      echo.onFirstBytes.get(req.url ?? '')?.();
    }
    bodyBytes += chunk.length;
    hash.update(chunk);
  });
  req.on('close', () => {
    if (!req.complete) {
      echo.aborted.push(req.url ?? '');
    }
  });
  req.on('end', () => {
    const report: EchoReport = {
      upstream: echo.name,
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      bodyBytes,
      bodySha256: hash.digest('hex'),
    };
    echo.received.set(report.url, report);
    const body = JSON.stringify(report);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}

function countBodyBytesUntilClose(req: IncomingMessage): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.socket.once('close', () => resolve(bytes));
  });
}

/** Closes a server and drops its open connections. */
export async function closeServer(server: http.Server | net.Server): Promise<void> {
  if (server instanceof http.Server) {
    server.closeAllConnections();
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ProxyFixture {
  proxy: ProxyHandle;
  dir: string;
  routesFile: string;
  logs: LogRecord[];
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Creates a pino logger at debug level that keeps every line as a parsed record and as text. */
export function capturingLogger(): { logger: Logger; records: LogRecord[]; text: () => string } {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const logger = pino(
    { level: 'debug', base: undefined },
    {
      write(line: string): void {
        lines.push(line);
        records.push(JSON.parse(line) as LogRecord);
      },
    },
  );
  return { logger, records, text: () => lines.join('') };
}

/** Route entry with defaults: running, no hosts. */
export function route(name: string, upstream: string, accessKeys: string[], extra: Partial<RouteEntry> = {}): RouteEntry {
  return { name, upstream, accessKeys, state: 'running', hosts: [], ...extra };
}

/** Creates a temporary state directory, optionally writes routes, and starts a proxy on 127.0.0.1:0. */
export async function startTestProxy(
  cleanup: Cleanup,
  routes: RouteEntry[] | undefined,
  options: Partial<ProxyOptions> = {},
): Promise<ProxyFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-test-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const routesFile = join(dir, 'routes.json');
  if (routes !== undefined) {
    await writeRoutesFile(routesFile, routes);
  }
  const captured = capturingLogger();
  const proxy = await startProxy({ routesFile, listen: '127.0.0.1:0', logger: captured.logger, ...options });
  cleanup.add(() => proxy.destroy());
  return { proxy, dir, routesFile, logs: captured.records };
}

export interface ProxyResponse {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Flat [name, value, …] list, sent as given. */
  headers?: string[];
  body?: Buffer | string | Readable;
}

/** Sends one request with exact path and headers on a fresh connection and buffers the response. */
export function send(baseUrl: string, request: RawRequest): Promise<ProxyResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const headers = request.headers ?? [];
    const req = http.request(
      {
        // URL keeps the brackets of an IPv6 literal, which the client would try to resolve.
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: hasHeader(headers, 'host') ? headers : ['Host', 'proxy.test', ...headers],
        setHost: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    const body = request.body;
    if (body instanceof Readable) {
      body.pipe(req);
    } else {
      req.end(body);
    }
  });
}

function hasHeader(headers: readonly string[], name: string): boolean {
  return headers.some((value, index) => index % 2 === 0 && value.toLowerCase() === name);
}

/** Returns the <Code> of an S3 XML error body, or undefined. */
export function s3ErrorCode(body: Buffer | string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body.toString())?.[1];
}

export function echoReport(response: ProxyResponse): EchoReport {
  return JSON.parse(response.body.toString()) as EchoReport;
}

/**
 * Deterministic pseudo-random bytes, generated chunk by chunk so that large bodies never
 * sit in memory. The same size and chunk size always give the same bytes.
 */
export function generatedBody(totalBytes: number, chunkBytes = 1024 * 1024): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 0x9e3779b9;
  let resolveHash: (hex: string) => void = () => undefined;
  const sha256 = new Promise<string>((resolve) => {
    resolveHash = resolve;
  });
  const stream = new Readable({
    read() {
      if (sent >= totalBytes) {
        resolveHash(hash.digest('hex'));
        this.push(null);
        return;
      }
      const size = Math.min(chunkBytes, totalBytes - sent);
      const chunk = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i += 4) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        chunk.writeUInt32LE(seed, Math.min(i, size - 4));
      }
      hash.update(chunk);
      sent += size;
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

/** Returns a loopback port that nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `predicate` holds, checking every 20 ms at most `maxChecks` times. */
export async function waitFor(predicate: () => boolean, what: string, maxChecks = 500): Promise<void> {
  for (let check = 0; check < maxChecks; check += 1) {
    if (predicate()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Returns the SHA-256 of generatedBody(totalBytes) without keeping the bytes. */
export async function generatedBodySha256(totalBytes: number): Promise<string> {
  const body = generatedBody(totalBytes);
  body.stream.resume();
  return body.sha256;
}
