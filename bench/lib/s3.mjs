// S3 clients and presigning against 127.0.0.1 with @aws-sdk, for the development server.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Presigned URLs stay valid for longer than any benchmark runs. */
const PRESIGN_EXPIRES_S = 3600;

export function s3Client(port, credentials) {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    // No retries, so that a failing setup fails at once with the first error.
    maxAttempts: 1,
    // Bounds every call, so that a server that accepts and never responds cannot hang a run.
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
}

/**
 * Presigns a GET or PUT for a client that connects to `port`. The signature covers the Host
 * header, so each target needs its own URL; routing by the key in its query is part of
 * what the proxies are measured on.
 */
export function presignUrl(port, credentials, method, bucket, key) {
  const command = method === 'PUT' ? new PutObjectCommand({ Bucket: bucket, Key: key }) : new GetObjectCommand({ Bucket: bucket, Key: key });
  return getSignedUrl(s3Client(port, credentials), command, { expiresIn: PRESIGN_EXPIRES_S });
}

/** Presigns a browser-form POST upload of `key` up to `maxBytes`; returns { url, fields }. */
export function presignPost(port, credentials, bucket, key, maxBytes) {
  return createPresignedPost(s3Client(port, credentials), {
    Bucket: bucket,
    Key: key,
    Conditions: [['content-length-range', 0, maxBytes]],
    Expires: PRESIGN_EXPIRES_S,
  });
}
