import { createHash, createHmac } from 'node:crypto';
import { parseAuthorizationHeader, parseSigV4Scope, SIGV4_ALGORITHM, type SigV4Scope } from '../../s3/credentials.js';
import type { RootCredentials } from '../root-credentials.js';
import { headerValues, singleHeader, type RequestContext } from '../request-context.js';
import { S3Error, accessDenied } from '../s3-error.js';
import { checkClockSkew, signaturesEqual } from './auth-common.js';

/**
 * SigV4 verification for the Authorization header and for presigned URLs, following
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html.
 * The canonical URI is the raw path as received: S3 neither normalizes nor re-encodes it.
 */

export const EMPTY_SHA256 = createHash('sha256').digest('hex');
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** Longest lifetime of a presigned URL: 7 days. */
const MAX_PRESIGN_EXPIRES_SECONDS = 604_800;

/** What a verified SigV4 request leaves for checking its body. */
export interface SigV4Verified {
  payloadHash: string;
  signature: string;
  amzDate: string;
  scope: string;
  signingKey: Buffer;
}

export function deriveSigningKey(secretKey: string, scope: SigV4Scope): Buffer {
  const dateKey = hmac(`AWS4${secretKey}`, scope.date);
  const regionKey = hmac(dateKey, scope.region);
  const serviceKey = hmac(regionKey, scope.service);
  return hmac(serviceKey, 'aws4_request');
}

/** Differences of a non-S3 request: STS signs with service `sts` and hashes its form body without sending x-amz-content-sha256. */
export interface SigV4HeaderOptions {
  service?: string;
  /** The SHA-256 hex of a body the caller has read already; replaces x-amz-content-sha256 in the canonical request. */
  payloadHash?: string;
}

export function verifySigV4Header(
  context: RequestContext,
  authorization: string,
  credentials: RootCredentials,
  now: Date,
  options: SigV4HeaderOptions = {},
): SigV4Verified {
  const parsed = parseAuthorizationHeader(authorization);
  if (parsed.kind !== 'v4') {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'expected a SigV4 Authorization header');
  }
  checkScope(parsed.scope, credentials, options.service);
  if (!parsed.signedHeaders.includes('host')) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'the SignedHeaders of a SigV4 request must include "host"');
  }

  const amzDate = singleHeader(context, 'x-amz-date') ?? formatAmzDate(singleHeader(context, 'date'));
  const requestTime = parseAmzDate(amzDate);
  checkClockSkew(requestTime, now);
  if (!amzDate.startsWith(parsed.scope.date)) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the credential date ${parsed.scope.date} does not match the request date ${amzDate}`);
  }

  const payloadHash = options.payloadHash ?? singleHeader(context, 'x-amz-content-sha256') ?? EMPTY_SHA256;
  const canonical = canonicalRequest(context, parsed.signedHeaders, canonicalQuery(context.queryPairs, undefined), payloadHash);
  const verified = signAndCompare(canonical, parsed.signature, parsed.scope, amzDate, credentials);
  return { ...verified, payloadHash };
}

export function verifySigV4Query(context: RequestContext, credentials: RootCredentials, now: Date): SigV4Verified {
  const algorithm = context.query.get('X-Amz-Algorithm');
  const credential = context.query.get('X-Amz-Credential');
  const amzDate = context.query.get('X-Amz-Date');
  const expires = context.query.get('X-Amz-Expires');
  const signedHeaders = context.query.get('X-Amz-SignedHeaders');
  const signature = context.query.get('X-Amz-Signature');
  if (algorithm !== SIGV4_ALGORITHM || !credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw new S3Error(
      400,
      'AuthorizationQueryParametersError',
      'a presigned SigV4 URL needs X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature',
    );
  }
  const scope = parseScope(credential);
  checkScope(scope, credentials);

  const expiresSeconds = Number(expires);
  if (!/^\d+$/.test(expires) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', `X-Amz-Expires "${expires}" must be between 1 and ${MAX_PRESIGN_EXPIRES_SECONDS} seconds`);
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt.getTime() - now.getTime() > 15 * 60_000) {
    throw accessDenied('the presigned URL is not valid yet: its X-Amz-Date is in the future');
  }
  if (now.getTime() > signedAt.getTime() + expiresSeconds * 1000) {
    throw accessDenied('Request has expired: the presigned URL is past its X-Amz-Date plus X-Amz-Expires; create a new one');
  }

  const headerNames = signedHeaders.split(';').filter((name) => name !== '');
  const payloadHash = context.query.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  const canonical = canonicalRequest(context, headerNames, canonicalQuery(context.queryPairs, 'X-Amz-Signature'), payloadHash);
  const verified = signAndCompare(canonical, signature, scope, amzDate, credentials);
  return { ...verified, payloadHash };
}

/** The signature that the next aws-chunked chunk must carry. */
export function chunkSignature(verified: SigV4Verified, previousSignature: string, dataSha256Hex: string): string {
  const stringToSign = [
    'AWS4-HMAC-SHA256-PAYLOAD',
    verified.amzDate,
    verified.scope,
    previousSignature,
    EMPTY_SHA256,
    dataSha256Hex,
  ].join('\n');
  return createHmac('sha256', verified.signingKey).update(stringToSign).digest('hex');
}

/** Signs a POST policy document: the signature covers the base64 policy as sent. */
export function signPostPolicy(secretKey: string, scope: SigV4Scope, policyBase64: string): string {
  return createHmac('sha256', deriveSigningKey(secretKey, scope)).update(policyBase64).digest('hex');
}

/** Encodes a string as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function parseScope(credential: string): SigV4Scope {
  try {
    return parseSigV4Scope(credential);
  } catch (error) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', (error as Error).message);
  }
}

export function checkScope(scope: SigV4Scope, credentials: RootCredentials, service = 's3'): void {
  if (scope.accessKey !== credentials.accessKey) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'the access key in the request does not exist on this server; check the access key');
  }
  if (scope.service !== service) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the credential scope names service "${scope.service}"; expected "${service}"`);
  }
}

/** Parses `YYYYMMDDTHHMMSSZ`. */
export function parseAmzDate(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) {
    throw accessDenied(`the request date "${text}" is not in the form YYYYMMDDTHHMMSSZ`);
  }
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
}

function formatAmzDate(httpDate: string | undefined): string {
  const time = httpDate === undefined ? Number.NaN : Date.parse(httpDate);
  if (Number.isNaN(time)) {
    throw accessDenied('a SigV4 request needs a valid X-Amz-Date or Date header');
  }
  return new Date(time).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalQuery(pairs: Array<[string, string]>, excluded: string | undefined): string {
  return pairs
    .filter(([name]) => name !== excluded)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => (nameA === nameB ? compare(valueA, valueB) : compare(nameA, nameB)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function canonicalRequest(context: RequestContext, signedHeaders: string[], query: string, payloadHash: string): string {
  const names = signedHeaders.map((name) => name.toLowerCase());
  const headerLines = names.map((name) => `${name}:${canonicalHeaderValue(context, name)}\n`).join('');
  return [context.method, context.rawPath, query, headerLines, names.join(';'), payloadHash].join('\n');
}

function canonicalHeaderValue(context: RequestContext, name: string): string {
  return headerValues(context, name)
    .map((value) => value.trim().replace(/\s+/g, ' '))
    .join(',');
}

function signAndCompare(
  canonical: string,
  signature: string,
  scope: SigV4Scope,
  amzDate: string,
  credentials: RootCredentials,
): Omit<SigV4Verified, 'payloadHash'> {
  const scopeText = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, amzDate, scopeText, sha256Hex(canonical)].join('\n');
  const signingKey = deriveSigningKey(credentials.secretKey, scope);
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (!signaturesEqual(expected, signature)) {
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'the request signature does not match the signature computed by the server; check the secret key and signing method',
    );
  }
  return { signature, amzDate, scope: scopeText, signingKey };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
