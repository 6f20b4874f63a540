import type { RootCredentials } from '../root-credentials.js';
import { singleHeader, type RequestContext } from '../request-context.js';
import { S3Error } from '../s3-error.js';
import { signaturesEqual } from './auth-common.js';
import { isExpired, type TemporaryCredentialStore } from './temporary-credentials.js';

/** Every key pair the server accepts: the root credentials and the temporary ones STS issued. */
export interface CredentialKeys {
  root: RootCredentials;
  temporary: TemporaryCredentialStore;
}

/**
 * Returns the session token of a request: the X-Amz-Security-Token header, else the query
 * parameter of a presigned URL. An empty value counts as absent, as in MinIO's getSessionToken.
 */
export function sessionTokenOf(context: RequestContext): string | undefined {
  const header = singleHeader(context, 'x-amz-security-token');
  const token = header === undefined || header === '' ? context.query.get('X-Amz-Security-Token') : header;
  return token === '' ? undefined : token;
}

/**
 * Finds the secret key that must have signed a request with `accessKey`, and checks the session
 * token as MinIO's checkClaimsFromToken does (cmd/auth-handler.go). Temporary credentials need
 * their own token and root credentials must come without one. Expired temporary credentials
 * count as unknown access keys (403 InvalidAccessKeyId).
 */
export function resolveSigningCredentials(
  accessKey: string,
  sessionToken: string | undefined,
  keys: CredentialKeys,
  now: Date,
): RootCredentials {
  if (accessKey === keys.root.accessKey) {
    if (sessionToken !== undefined) {
      throw invalidToken('the request carries X-Amz-Security-Token, but its access key is the root user\'s, which takes no session token; remove the token');
    }
    return keys.root;
  }

  const temporary = keys.temporary.find(accessKey);
  if (temporary === undefined) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'the access key in the request does not exist on this server; check the access key');
  }
  if (sessionToken === undefined) {
    throw invalidToken('the access key belongs to temporary credentials, so the request needs their session token in X-Amz-Security-Token');
  }
  if (!signaturesEqual(temporary.sessionToken, sessionToken)) {
    throw invalidToken('the X-Amz-Security-Token does not match the session token issued with this access key; send the token from the same AssumeRole response');
  }
  if (isExpired(temporary, now)) {
    throw new S3Error(
      403,
      'InvalidAccessKeyId',
      `the temporary credentials of this access key expired at ${temporary.expiresAt.toISOString()}; request new ones with AssumeRole`,
    );
  }
  return { accessKey: temporary.accessKey, secretKey: temporary.secretKey };
}

/** MinIO's ErrInvalidToken (cmd/api-errors.go). */
function invalidToken(message: string): S3Error {
  return new S3Error(403, 'InvalidTokenId', `The security token included in the request is invalid: ${message}`);
}
