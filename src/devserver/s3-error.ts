import type { S3ErrorBody } from '../s3/error-response.js';

/**
 * An S3 error that a handler throws; the request dispatcher turns it into the XML error
 * response. Codes and statuses follow https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
export class S3Error extends Error {
  override name = 'S3Error';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
  }

  toBody(): S3ErrorBody {
    return {
      status: this.status,
      code: this.code,
      message: this.message,
      ...(this.resource === undefined ? {} : { resource: this.resource }),
    };
  }
}

export function noSuchBucket(bucket: string): S3Error {
  return new S3Error(404, 'NoSuchBucket', `the bucket "${bucket}" does not exist; create it first`, `/${bucket}`);
}

export function noSuchKey(bucket: string, key: string): S3Error {
  return new S3Error(404, 'NoSuchKey', `the key "${key}" does not exist in bucket "${bucket}"`, `/${bucket}/${key}`);
}

export function noSuchUpload(uploadId: string): S3Error {
  return new S3Error(
    404,
    'NoSuchUpload',
    `the multipart upload "${uploadId}" does not exist; it may have been completed or aborted`,
  );
}

export function accessDenied(message: string): S3Error {
  return new S3Error(403, 'AccessDenied', message);
}

export function notImplemented(what: string): S3Error {
  return new S3Error(501, 'NotImplemented', `${what} is not implemented by minio-dev-server`);
}
