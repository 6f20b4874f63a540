// Request shapes for backends that do not check signatures.
import { randomBytes } from 'node:crypto';

/**
 * Headers of a SigV4 header-signed request with a made-up signature: the same length and
 * layout as a real one, so routing parses what it parses in production, but only for
 * backends that do not verify it.
 */
export function sigV4ShapedHeaders(accessKey, now = new Date()) {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  return {
    Authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, ` +
      `Signature=${randomBytes(32).toString('hex')}`,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': amzDate,
  };
}
