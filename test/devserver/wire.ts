import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * Test helpers that sign requests with AWS's own signer (or, for SigV2 and aws-chunked,
 * with code written here from the AWS documentation) and send them with node:http, so a
 * tampered header, path or body reaches the server exactly as built.
 */

export interface WireRequest {
  method: string;
  /** Path exactly as sent, already percent-encoded once. */
  path: string;
  /** Query string exactly as sent, without `?`. */
  query: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Credentials {
  accessKey: string;
  secretKey: string;
  /** Signed as X-Amz-Security-Token, for temporary credentials. */
  sessionToken?: string;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** A Checksum for @smithy/signature-v4 built on node:crypto: SHA-256, or HMAC-SHA256 with a secret. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SigV4 percent-encoding: everything except A-Z a-z 0-9 - _ . ~ */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function encodeKeyPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(uriEncode).join('/')}`;
}

function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([name, value]) => (value === '' ? uriEncode(name) : `${uriEncode(name)}=${uriEncode(value)}`))
    .join('&');
}

function signer(credentials: Credentials, service = 's3', applyChecksum = true): SignatureV4 {
  return new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKey,
      secretAccessKey: credentials.secretKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
    region: 'us-east-1',
    service,
    applyChecksum,
    sha256: NodeSha256,
    uriEscapePath: false,
  });
}

export interface SignOptions {
  method: string;
  port: number;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** x-amz-content-sha256; defaults to the SHA-256 of the body. */
  payloadHash?: string;
  /** Sends no x-amz-content-sha256, as STS clients do; the signature still covers the body's SHA-256. */
  omitContentSha256?: boolean;
  signingDate?: Date;
  /** The SigV4 service name; `s3` unless set. */
  service?: string;
}

/** Signs with SigV4 in the Authorization header. */
export async function signV4(credentials: Credentials, options: SignOptions): Promise<WireRequest> {
  const body = options.body ?? '';
  const headers = {
    host: `127.0.0.1:${options.port}`,
    ...(options.omitContentSha256 === true ? {} : { 'x-amz-content-sha256': options.payloadHash ?? sha256Hex(body) }),
    ...options.headers,
  };
  const signed = await signer(credentials, options.service, options.omitContentSha256 !== true).sign(
    { method: options.method, protocol: 'http:', hostname: '127.0.0.1', port: options.port, path: options.path, query: options.query ?? {}, headers, body },
    { signingDate: options.signingDate ?? new Date() },
  );
  return { method: options.method, path: options.path, query: queryString(options.query ?? {}), headers: signed.headers as Record<string, string>, body };
}

/** Presigns with SigV4 query parameters. */
export async function presignV4(
  credentials: Credentials,
  options: SignOptions & { expiresInSeconds: number },
): Promise<WireRequest> {
  const presigned = await signer(credentials).presign(
    {
      method: options.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: options.port,
      path: options.path,
      query: options.query ?? {},
      // Presigned S3 URLs never sign the body, as the SDK's s3-request-presigner does.
      headers: { host: `127.0.0.1:${options.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...options.headers },
    },
    { expiresIn: options.expiresInSeconds, signingDate: options.signingDate ?? new Date() },
  );
  return {
    method: options.method,
    path: options.path,
    query: queryString(presigned.query as Record<string, string>),
    headers: { host: `127.0.0.1:${options.port}`, ...options.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

/** SigV2 sub-resources that go into the canonicalized resource, from the S3 RESTAuthentication page. */
const V2_SUB_RESOURCES = ['acl', 'delete', 'location', 'partNumber', 'policy', 'response-content-type', 'uploadId', 'uploads', 'versionId'];

/** Builds the SigV2 string to sign and its signature. */
export function signV2(
  secretKey: string,
  parts: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; dateOrExpires: string },
): string {
  const lower = Object.fromEntries(Object.entries(parts.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const amz = Object.keys(lower)
    .filter((name) => name.startsWith('x-amz-'))
    .sort()
    .map((name) => `${name}:${lower[name]!.trim()}\n`)
    .join('');
  const sub = Object.keys(parts.query)
    .filter((name) => V2_SUB_RESOURCES.includes(name))
    .sort()
    .map((name) => (parts.query[name] === '' ? name : `${name}=${parts.query[name]}`));
  const resource = sub.length === 0 ? parts.path : `${parts.path}?${sub.join('&')}`;
  const stringToSign = [parts.method, lower['content-md5'] ?? '', lower['content-type'] ?? '', parts.dateOrExpires, `${amz}${resource}`].join('\n');
  return createHmac('sha1', secretKey).update(stringToSign).digest('base64');
}

export function signV2Header(
  credentials: Credentials,
  options: { method: string; port: number; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string; date?: Date },
): WireRequest {
  const date = (options.date ?? new Date()).toUTCString();
  const headers = { host: `127.0.0.1:${options.port}`, date, ...options.headers };
  const signature = signV2(credentials.secretKey, { method: options.method, path: options.path, query: options.query ?? {}, headers, dateOrExpires: date });
  return {
    method: options.method,
    path: options.path,
    query: queryString(options.query ?? {}),
    headers: { ...headers, authorization: `AWS ${credentials.accessKey}:${signature}` },
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

export function presignV2(
  credentials: Credentials,
  options: { method: string; port: number; path: string; query?: Record<string, string>; expires: number },
): WireRequest {
  const expires = String(options.expires);
  const query = options.query ?? {};
  const signature = signV2(credentials.secretKey, { method: options.method, path: options.path, query, headers: {}, dateOrExpires: expires });
  return {
    method: options.method,
    path: options.path,
    query: queryString({ ...query, AWSAccessKeyId: credentials.accessKey, Expires: expires, Signature: signature }),
    headers: { host: `127.0.0.1:${options.port}` },
  };
}

/** Derives the SigV4 signing key, for chunk and POST policy signatures. */
export function signingKey(secretKey: string, date: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), 'us-east-1'), 's3'), 'aws4_request');
}

/**
 * Builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: headers signed with SigV4, the body
 * framed as aws-chunked with a chained signature per chunk
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
 */
export async function signStreaming(
  credentials: Credentials,
  options: { port: number; path: string; chunks: string[]; tamperChunk?: number },
): Promise<WireRequest> {
  const decodedLength = options.chunks.reduce((total, chunk) => total + Buffer.byteLength(chunk), 0);
  const now = new Date();
  const signed = await signV4(credentials, {
    method: 'PUT',
    port: options.port,
    path: options.path,
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(decodedLength) },
    signingDate: now,
  });
  const authorization = signed.headers.authorization!;
  const amzDate = signed.headers['x-amz-date']!;
  const date = amzDate.slice(0, 8);
  const key = signingKey(credentials.secretKey, date);
  let previous = /Signature=([0-9a-f]+)/.exec(authorization)![1]!;
  const frames: string[] = [];
  for (const [index, chunk] of [...options.chunks, ''].entries()) {
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, `${date}/us-east-1/s3/aws4_request`, previous, sha256Hex(''), sha256Hex(chunk)].join('\n');
    let signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    previous = signature;
    if (index === options.tamperChunk) {
      signature = flipFirstChar(signature);
    }
    frames.push(`${Buffer.byteLength(chunk).toString(16)};chunk-signature=${signature}\r\n${chunk}\r\n`);
  }
  return { ...signed, body: frames.join('') };
}

export function flipFirstChar(text: string): string {
  return `${text[0] === 'a' ? 'b' : 'a'}${text.slice(1)}`;
}

/** Sends the request exactly as given; a Content-Length is added for a body. */
export function send(port: number, wire: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const body = wire.body === undefined ? undefined : Buffer.from(wire.body);
    const headers = { ...wire.headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) };
    const req = request(
      { host: '127.0.0.1', port, method: wire.method, path: wire.query === '' ? wire.path : `${wire.path}?${wire.query}`, headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function errorCode(response: WireResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(response.body)?.[1];
}
