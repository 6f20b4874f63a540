import { createHash } from 'node:crypto';
import { findAccessKey } from '../../s3/credentials.js';
import { newRequestId } from '../../s3/error-response.js';
import { sessionTokenOf, type CredentialKeys } from '../auth/signing-credentials.js';
import { verifySigV4Header } from '../auth/sigv4.js';
import type { TemporaryCredentials } from '../auth/temporary-credentials.js';
import type { HandlerInput } from '../handlers/handler-input.js';
import { receiveSmallBody } from '../request-body.js';
import { headerValues, singleHeader, type RequestContext } from '../request-context.js';
import { sendXml } from '../responses.js';
import { S3Error } from '../s3-error.js';
import { element } from '../xml.js';
import { parseAssumeRoleForm } from './assume-role-request.js';
import { STS_NAMESPACE, stsAccessDenied, stsErrorFromS3 } from './sts-error.js';

/** The largest AssumeRole body. The form is a few hundred bytes, and MinIO reads up to 10 MiB. */
export const MAX_ASSUME_ROLE_BODY_BYTES = 64 * 1024;

/**
 * STS AssumeRole as MinIO implements it (cmd/sts-handlers.go): `POST /` with a form body,
 * signed with SigV4 for service `sts` by a user's long-term credentials. Here the only such
 * user is root. Errors are thrown as StsError, which the dispatcher renders as STS XML.
 */
export async function assumeRole(input: HandlerInput): Promise<void> {
  const now = new Date();
  const keys: CredentialKeys = { root: input.credentials, temporary: input.temporaryCredentials };

  const body = await readFormBody(input);
  authenticateCaller(input.context, sha256Hex(body), keys, now);
  const request = parseAssumeRoleForm(body.toString('utf8'));

  const issued = keys.temporary.issue(request.durationSeconds, now);
  const requestId = newRequestId();
  sendXml(input.res, 200, renderAssumeRoleResponse(issued, requestId), { 'x-amz-request-id': requestId });
}

/** Renders the response in MinIO's element order, with the AssumedRoleUser fields empty as MinIO leaves them. */
export function renderAssumeRoleResponse(credentials: TemporaryCredentials, requestId: string): string {
  const result =
    '<AssumedRoleUser><Arn></Arn><AssumeRoleId></AssumeRoleId></AssumedRoleUser>' +
    '<Credentials>' +
    element('AccessKeyId', credentials.accessKey) +
    element('SecretAccessKey', credentials.secretKey) +
    element('SessionToken', credentials.sessionToken) +
    element('Expiration', formatExpiration(credentials.expiresAt)) +
    '</Credentials>';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<AssumeRoleResponse xmlns="${STS_NAMESPACE}">` +
    `<AssumeRoleResult>${result}</AssumeRoleResult>` +
    `<ResponseMetadata>${element('RequestId', requestId)}</ResponseMetadata>` +
    '</AssumeRoleResponse>'
  );
}

/** ISO 8601 in UTC without milliseconds, as Go writes a whole-second time.Time: `2024-05-01T12:00:00Z`. */
export function formatExpiration(expiresAt: Date): string {
  return expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function readFormBody(input: HandlerInput): Promise<Buffer> {
  try {
    return await receiveSmallBody(input.req, input.context, { kind: 'none' }, MAX_ASSUME_ROLE_BODY_BYTES);
  } catch (error) {
    throw error instanceof S3Error ? stsErrorFromS3(error) : error;
  }
}

/**
 * Accepts only the root credentials in a SigV4 Authorization header. As in MinIO, the signature
 * covers the SHA-256 of the body the server read, because STS clients do not send
 * x-amz-content-sha256, and a request with a session token is rejected, because temporary
 * credentials cannot request more temporary credentials.
 */
function authenticateCaller(context: RequestContext, bodySha256: string, keys: CredentialKeys, now: Date): void {
  const lookup = findAccessKey(headerValues(context, 'authorization'), context.rawQuery);
  if (!lookup.ok || lookup.mechanism !== 'v4-header') {
    throw stsAccessDenied('AssumeRole needs an AWS4-HMAC-SHA256 Authorization header signed for service "sts"; sign the request with the root credentials');
  }
  if (sessionTokenOf(context) !== undefined || keys.temporary.find(lookup.accessKey) !== undefined) {
    throw stsAccessDenied('temporary credentials cannot request more temporary credentials; call AssumeRole with the root credentials and no X-Amz-Security-Token');
  }
  if (lookup.accessKey !== keys.root.accessKey) {
    throw stsAccessDenied('InvalidAccessKeyId: the access key in the request does not exist on this server; sign AssumeRole with the root credentials');
  }

  const claimedSha256 = singleHeader(context, 'x-amz-content-sha256');
  if (claimedSha256 !== undefined && /^[0-9a-f]{64}$/.test(claimedSha256) && claimedSha256 !== bodySha256) {
    throw stsAccessDenied('XAmzContentSHA256Mismatch: the SHA-256 of the received body does not match the x-amz-content-sha256 header');
  }
  try {
    verifySigV4Header(context, singleHeader(context, 'authorization')!, keys.root, now, { service: 'sts', payloadHash: bodySha256 });
  } catch (error) {
    throw error instanceof S3Error ? stsErrorFromS3(error) : error;
  }
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
