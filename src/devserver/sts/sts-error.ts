import type { ServerResponse } from 'node:http';
import { escapeXml, newRequestId } from '../../s3/error-response.js';
import { S3Error } from '../s3-error.js';

/** The XML namespace of STS responses, https://sts.amazonaws.com/doc/2011-06-15/ as MinIO writes it. */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * An STS error. STS responds with `<ErrorResponse>` rather than S3's `<Error>` and has its own
 * codes. The statuses and codes follow MinIO's cmd/sts-errors.go.
 */
export class StsError extends Error {
  override name = 'StsError';

  constructor(
    readonly status: number,
    readonly code: 'AccessDenied' | 'MissingParameter' | 'InvalidParameterValue' | 'InternalError',
    message: string,
  ) {
    super(message);
  }
}

export function stsAccessDenied(message: string): StsError {
  return new StsError(403, 'AccessDenied', message);
}

export function invalidParameterValue(message: string): StsError {
  return new StsError(400, 'InvalidParameterValue', message);
}

/**
 * Maps a failed signature or body check to the STS error that MinIO returns for it (apiToSTSError
 * in cmd/sts-handlers.go). Every authentication failure becomes AccessDenied with the S3 message.
 */
export function stsErrorFromS3(error: S3Error): StsError {
  if (error.code === 'EntityTooLarge') {
    return invalidParameterValue(error.message);
  }
  return stsAccessDenied(`${error.code}: ${error.message}`);
}

/** Renders the error as MinIO does, with an empty `<Type>` because MinIO never fills in that field. */
export function renderStsError(error: StsError, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<ErrorResponse xmlns="${STS_NAMESPACE}">` +
    `<Error><Type></Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    '</ErrorResponse>'
  );
}

export function sendStsError(res: ServerResponse, error: StsError, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = newRequestId();
  const body = renderStsError(error, requestId);
  res.writeHead(error.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    ...headers,
  });
  res.end(body);
}
