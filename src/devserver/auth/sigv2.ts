import { createHmac } from 'node:crypto';
import { parseAuthorizationHeader } from '../../s3/credentials.js';
import type { RootCredentials } from '../root-credentials.js';
import { headerValues, singleHeader, type RequestContext } from '../request-context.js';
import { S3Error, accessDenied } from '../s3-error.js';
import { checkClockSkew, signaturesEqual } from './auth-common.js';

/**
 * SigV2 verification, header and presigned query, following
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
 */

/** Query parameters that are part of the canonicalized resource, from the page above. */
const SUB_RESOURCES = new Set([
  'acl',
  'cors',
  'delete',
  'lifecycle',
  'location',
  'logging',
  'notification',
  'partNumber',
  'policy',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

export function verifySigV2Header(context: RequestContext, authorization: string, credentials: RootCredentials, now: Date): void {
  const parsed = parseAuthorizationHeader(authorization);
  if (parsed.kind !== 'v2') {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'expected a SigV2 Authorization header');
  }
  checkAccessKey(parsed.accessKey, credentials);

  const amzDate = singleHeader(context, 'x-amz-date');
  const date = amzDate ?? singleHeader(context, 'date');
  const time = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(time)) {
    throw accessDenied('a SigV2 request needs a valid Date or x-amz-date header');
  }
  checkClockSkew(new Date(time), now);

  // With x-amz-date present the Date line of the string to sign is empty.
  const stringToSign = sigV2StringToSign(context, amzDate === undefined ? (date ?? '') : '');
  compareSignature(stringToSign, parsed.signature, credentials);
}

export function verifySigV2Query(context: RequestContext, credentials: RootCredentials, now: Date): void {
  const accessKey = context.query.get('AWSAccessKeyId') ?? '';
  const expires = context.query.get('Expires');
  const signature = context.query.get('Signature');
  if (expires === undefined || signature === undefined || !/^\d+$/.test(expires)) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'a presigned SigV2 URL needs AWSAccessKeyId, Expires (Unix seconds) and Signature');
  }
  checkAccessKey(accessKey, credentials);
  if (now.getTime() > Number(expires) * 1000) {
    throw accessDenied('Request has expired: the presigned URL is past its Expires time; create a new one');
  }
  compareSignature(sigV2StringToSign(context, expires), signature, credentials);
}

/** Signs a SigV2 POST policy: base64 HMAC-SHA1 of the base64 policy. */
export function signPostPolicyV2(secretKey: string, policyBase64: string): string {
  return createHmac('sha1', secretKey).update(policyBase64).digest('base64');
}

/**
 * Builds the string to sign: verb, Content-MD5, Content-Type, date (or Expires), the
 * canonicalized x-amz-* headers and the canonicalized resource with its sub-resources.
 */
export function sigV2StringToSign(context: RequestContext, dateOrExpires: string): string {
  const amzHeaders = new Map<string, string[]>();
  for (let index = 0; index < context.rawHeaders.length; index += 2) {
    const name = context.rawHeaders[index]!.toLowerCase();
    if (name.startsWith('x-amz-')) {
      amzHeaders.set(name, headerValues(context, name).map((value) => value.trim().replace(/\s*\r?\n\s*/g, ' ')));
    }
  }
  const amzLines = [...amzHeaders.keys()]
    .sort()
    .map((name) => `${name}:${amzHeaders.get(name)!.join(',')}\n`)
    .join('');

  const subResources = context.queryPairs
    .filter(([name]) => SUB_RESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  const resource = subResources.length === 0 ? context.rawPath : `${context.rawPath}?${subResources.join('&')}`;

  return [
    context.method,
    singleHeader(context, 'content-md5') ?? '',
    singleHeader(context, 'content-type') ?? '',
    dateOrExpires,
    `${amzLines}${resource}`,
  ].join('\n');
}

function checkAccessKey(accessKey: string, credentials: RootCredentials): void {
  if (accessKey !== credentials.accessKey) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'the access key in the request does not exist on this server; check the access key');
  }
}

function compareSignature(stringToSign: string, signature: string, credentials: RootCredentials): void {
  const expected = createHmac('sha1', credentials.secretKey).update(stringToSign).digest('base64');
  if (!signaturesEqual(expected, signature)) {
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'the request signature does not match the signature computed by the server; check the secret key and signing method',
    );
  }
}
