import { findAccessKey } from '../../s3/credentials.js';
import { headerValues, singleHeader, type RequestContext } from '../request-context.js';
import { S3Error, accessDenied } from '../s3-error.js';
import { resolveSigningCredentials, sessionTokenOf, type CredentialKeys } from './signing-credentials.js';
import { verifySigV2Header, verifySigV2Query } from './sigv2.js';
import { UNSIGNED_PAYLOAD, chunkSignature, verifySigV4Header, verifySigV4Query, type SigV4Verified } from './sigv4.js';

/** How the body of an authenticated request must be checked while it streams. */
export type PayloadCheck =
  | { kind: 'none' }
  | { kind: 'sha256'; expectedHex: string }
  | {
      kind: 'aws-chunked';
      /** Set for STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), where every chunk is signed. */
      signed?: { seedSignature: string; expectedChunkSignature: (previous: string, dataHash: string) => string };
      decodedLength: number | undefined;
    };

export type AuthResult = { kind: 'anonymous' } | { kind: 'signed'; payload: PayloadCheck };

/** x-amz-content-sha256 values for aws-chunked bodies, from the sigv4-streaming pages of the S3 API reference. */
const STREAMING_SIGNED = new Set(['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']);
const STREAMING_UNSIGNED = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/**
 * Verifies the signature of a request with the root credentials or with temporary credentials
 * and their session token. Returns `anonymous` for a request without credentials, which only a
 * bucket policy may allow.
 */
export function authenticate(context: RequestContext, keys: CredentialKeys, now: Date): AuthResult {
  const lookup = findAccessKey(headerValues(context, 'authorization'), context.rawQuery);
  if (!lookup.ok) {
    throw new S3Error(lookup.error.status, lookup.error.code, lookup.error.message);
  }
  const sessionToken = sessionTokenOf(context);
  if (lookup.mechanism === 'anonymous') {
    if (sessionToken !== undefined) {
      // MinIO's ErrNoAccessKey: a session token means nothing without the access key it belongs to.
      throw accessDenied('No AWSAccessKey was presented: the request has X-Amz-Security-Token but no signature; sign it with the temporary credentials');
    }
    return { kind: 'anonymous' };
  }

  const credentials = resolveSigningCredentials(lookup.accessKey, sessionToken, keys, now);
  switch (lookup.mechanism) {
    case 'v4-header':
      return { kind: 'signed', payload: payloadCheck(context, verifySigV4Header(context, singleHeader(context, 'authorization')!, credentials, now)) };
    case 'v4-query':
      return { kind: 'signed', payload: payloadCheck(context, verifySigV4Query(context, credentials, now)) };
    case 'v2-header':
      verifySigV2Header(context, singleHeader(context, 'authorization')!, credentials, now);
      return { kind: 'signed', payload: { kind: 'none' } };
    case 'v2-query':
      verifySigV2Query(context, credentials, now);
      return { kind: 'signed', payload: { kind: 'none' } };
  }
}

function payloadCheck(context: RequestContext, verified: SigV4Verified): PayloadCheck {
  const hash = verified.payloadHash;
  if (hash === UNSIGNED_PAYLOAD) {
    return { kind: 'none' };
  }
  if (STREAMING_SIGNED.has(hash) || hash === STREAMING_UNSIGNED) {
    return {
      kind: 'aws-chunked',
      decodedLength: decodedContentLength(context),
      ...(hash === STREAMING_UNSIGNED
        ? {}
        : {
            signed: {
              seedSignature: verified.signature,
              expectedChunkSignature: (previous: string, dataHash: string) => chunkSignature(verified, previous, dataHash),
            },
          }),
    };
  }
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new S3Error(400, 'InvalidArgument', `x-amz-content-sha256 "${hash.slice(0, 80)}" is neither a hex SHA-256 nor a known payload mode`);
  }
  return { kind: 'sha256', expectedHex: hash };
}

function decodedContentLength(context: RequestContext): number | undefined {
  const value = singleHeader(context, 'x-amz-decoded-content-length');
  if (value === undefined) {
    return undefined;
  }
  if (!/^\d+$/.test(value)) {
    throw new S3Error(400, 'InvalidArgument', `x-amz-decoded-content-length "${value}" is not a byte count`);
  }
  return Number(value);
}
