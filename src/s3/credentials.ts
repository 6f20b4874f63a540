import type { S3ErrorBody } from './error-response.js';

/**
 * Parsing of the access key and signature parts that S3 clients put in a request.
 * Every function here is pure, so the proxy (which only needs the access key) and the
 * development server (which verifies the signature) parse untrusted input the same way.
 *
 * Formats: SigV4 https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 * and https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html,
 * SigV2 https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
 */

export interface SigV4Scope {
  accessKey: string;
  /** YYYYMMDD */
  date: string;
  region: string;
  service: string;
}

export type AuthorizationHeader =
  | { kind: 'v4'; scope: SigV4Scope; signedHeaders: string[]; signature: string }
  | { kind: 'v2'; accessKey: string; signature: string };

export type AuthMechanism = 'v4-header' | 'v2-header' | 'v4-query' | 'v2-query';

export type AccessKeyLookup =
  | { ok: true; mechanism: AuthMechanism; accessKey: string }
  | { ok: true; mechanism: 'anonymous' }
  | { ok: false; error: S3ErrorBody };

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export class CredentialParseError extends Error {
  constructor(
    readonly s3Code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialParseError';
  }
}

/**
 * Parses `<access key>/<YYYYMMDD>/<region>/<service>/aws4_request`. An access key may
 * itself contain `/`, so the key is everything before the last four parts.
 */
export function parseSigV4Scope(credential: string): SigV4Scope {
  const parts = credential.split('/');
  if (parts.length < 5) {
    throw new CredentialParseError(
      'AuthorizationHeaderMalformed',
      `the credential "${credential}" must have the form <access key>/<date>/<region>/<service>/aws4_request`,
    );
  }
  const [date, region, service, terminator] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join('/');
  if (accessKey === '') {
    throw new CredentialParseError('AuthorizationHeaderMalformed', 'the credential has an empty access key');
  }
  if (!/^\d{8}$/.test(date)) {
    throw new CredentialParseError('AuthorizationHeaderMalformed', `the credential date "${date}" is not YYYYMMDD`);
  }
  if (terminator !== 'aws4_request') {
    throw new CredentialParseError(
      'AuthorizationHeaderMalformed',
      `the credential must end with "aws4_request", not "${terminator}"`,
    );
  }
  return { accessKey, date, region, service };
}

/**
 * Parses an Authorization header of SigV4 (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
 * Signature=…`) or SigV2 (`AWS <access key>:<signature>`).
 */
export function parseAuthorizationHeader(value: string): AuthorizationHeader {
  const trimmed = value.trim();
  // The value is trimmed, so a SigV4 header without fields is the bare algorithm name.
  if (trimmed === SIGV4_ALGORITHM || trimmed.startsWith(`${SIGV4_ALGORITHM} `)) {
    return parseSigV4Header(trimmed.slice(SIGV4_ALGORITHM.length + 1));
  }
  if (trimmed.startsWith('AWS ')) {
    const body = trimmed.slice(4).trim();
    const colon = body.lastIndexOf(':');
    if (colon <= 0 || colon === body.length - 1) {
      throw new CredentialParseError(
        'InvalidArgument',
        'a SigV2 Authorization header must have the form "AWS <access key>:<signature>"',
      );
    }
    return { kind: 'v2', accessKey: body.slice(0, colon), signature: body.slice(colon + 1) };
  }
  throw new CredentialParseError(
    'InvalidArgument',
    `the Authorization header uses an unsupported scheme; expected "${SIGV4_ALGORITHM}" or "AWS"`,
  );
}

function parseSigV4Header(rest: string): AuthorizationHeader {
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const item = part.trim();
    if (item === '') {
      continue;
    }
    const equals = item.indexOf('=');
    if (equals <= 0) {
      // The field is not echoed because it may be a fragment of the signature.
      throw new CredentialParseError(
        'AuthorizationHeaderMalformed',
        'every field of a SigV4 Authorization header must have the form <name>=<value>',
      );
    }
    fields.set(item.slice(0, equals), item.slice(equals + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw new CredentialParseError(
      'AuthorizationHeaderMalformed',
      'a SigV4 Authorization header must contain Credential, SignedHeaders and Signature',
    );
  }
  return {
    kind: 'v4',
    scope: parseSigV4Scope(credential),
    signedHeaders: signedHeaders.split(';').filter((name) => name !== ''),
    signature,
  };
}

/** Splits a raw query string into decoded name/value pairs, keeping order and repeats. */
export function parseRawQuery(rawQuery: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (rawQuery === '') {
    return pairs;
  }
  for (const part of rawQuery.split('&')) {
    if (part === '') {
      continue;
    }
    const equals = part.indexOf('=');
    const rawName = equals === -1 ? part : part.slice(0, equals);
    const rawValue = equals === -1 ? '' : part.slice(equals + 1);
    const name = decodeQueryComponent(rawName);
    if (name === undefined) {
      throw new CredentialParseError('InvalidArgument', 'a query parameter name is not valid percent-encoding');
    }
    const value = decodeQueryComponent(rawValue);
    if (value === undefined) {
      // Only the name is quoted, because the value may be a signature.
      throw new CredentialParseError(
        'InvalidArgument',
        `the value of the query parameter "${truncate(name, 64)}" is not valid percent-encoding`,
      );
    }
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * Decodes one query component, or returns undefined for invalid percent-encoding.
 * `+` means a space in form encoding, which S3 accepts.
 */
export function decodeQueryComponent(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}…`;
}

function mechanismError(code: string, message: string): AccessKeyLookup {
  return { ok: false, error: { status: 400, code, message } };
}

/**
 * Finds the access key of a request and how it was sent. `authorization` holds every
 * Authorization header value received (more than one is an error), `rawQuery` is the
 * query string exactly as received, without the leading `?`.
 *
 * Returns `anonymous` when the request carries no credential. A request with more than
 * one mechanism gets 400 InvalidArgument, as S3 answers.
 */
export function findAccessKey(authorization: readonly string[], rawQuery: string): AccessKeyLookup {
  if (authorization.length > 1) {
    return mechanismError('InvalidArgument', 'the request has more than one Authorization header');
  }

  let query: Array<[string, string]>;
  try {
    query = queryHasCredential(rawQuery) ? parseRawQuery(rawQuery) : [];
  } catch (error) {
    return parseFailure(error, 'AuthorizationQueryParametersError');
  }
  const v4Credential = query.filter(([name]) => name === 'X-Amz-Credential');
  const v2AccessKey = query.filter(([name]) => name === 'AWSAccessKeyId');
  const mechanisms = authorization.length + (v4Credential.length > 0 ? 1 : 0) + (v2AccessKey.length > 0 ? 1 : 0);
  if (mechanisms > 1 || v4Credential.length > 1 || v2AccessKey.length > 1) {
    return mechanismError(
      'InvalidArgument',
      'only one auth mechanism is allowed: the Authorization header, X-Amz-Credential or AWSAccessKeyId',
    );
  }

  const header = authorization[0];
  if (header !== undefined) {
    try {
      const parsed = parseAuthorizationHeader(header);
      return parsed.kind === 'v4'
        ? { ok: true, mechanism: 'v4-header', accessKey: parsed.scope.accessKey }
        : { ok: true, mechanism: 'v2-header', accessKey: parsed.accessKey };
    } catch (error) {
      return parseFailure(error, 'AuthorizationHeaderMalformed');
    }
  }
  const v4 = v4Credential[0];
  if (v4 !== undefined) {
    try {
      return { ok: true, mechanism: 'v4-query', accessKey: parseSigV4Scope(v4[1]).accessKey };
    } catch (error) {
      return parseFailure(error, 'AuthorizationQueryParametersError');
    }
  }
  const v2 = v2AccessKey[0];
  if (v2 !== undefined) {
    if (v2[1] === '') {
      return mechanismError('AuthorizationQueryParametersError', 'the AWSAccessKeyId query parameter is empty');
    }
    return { ok: true, mechanism: 'v2-query', accessKey: v2[1] };
  }
  return { ok: true, mechanism: 'anonymous' };
}

/**
 * Checks cheaply whether a raw query may carry a credential, so that the common
 * header-signed request never decodes its query. True may be a false alarm (the text
 * in a value), false is certain.
 */
export function queryHasCredential(rawQuery: string): boolean {
  return rawQuery.includes('X-Amz-Credential') || rawQuery.includes('AWSAccessKeyId');
}

function parseFailure(error: unknown, fallbackCode: string): AccessKeyLookup {
  if (error instanceof CredentialParseError) {
    const code = error.s3Code === 'AuthorizationHeaderMalformed' ? fallbackCode : error.s3Code;
    return mechanismError(code, error.message);
  }
  throw error;
}
