import { Client } from 'minio';
import { TenantsError } from '../errors.js';
import type { Credentials } from '../state/credentials.js';
import type { UploadForm } from './upload-form-html.js';

/**
 * Presigning with the minio SDK against the proxy's public URL. Presigning is computed
 * locally: with the region given, the SDK sends no request to look up a bucket's region.
 */

/** MinIO's default region; the dev server and MinIO both accept it when none is configured. */
export const PRESIGN_REGION = 'us-east-1';

/** `success_action_status` of the form, so a browser shows S3's XML result instead of an empty 204 page. */
const FORM_SUCCESS_STATUS = '201';

export interface PostFormRequest {
  bucket: string;
  keyPrefix: string;
  expiresSeconds: number;
  /** Largest accepted file in bytes; undefined leaves the size to S3's own limit. */
  maxSizeBytes: number | undefined;
}

export function presignClient(publicUrl: string, credentials: Credentials): Client {
  const url = parsePublicUrl(publicUrl);
  return new Client({
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: portOf(url),
    useSSL: url.protocol === 'https:',
    accessKey: credentials.accessKey,
    secretKey: credentials.secretKey,
    region: PRESIGN_REGION,
    pathStyle: true,
  });
}

export function presignObjectUrl(client: Client, method: 'GET' | 'PUT', bucket: string, key: string, expiresSeconds: number): Promise<string> {
  return client.presignedUrl(method, bucket, key, expiresSeconds);
}

/**
 * Signs a POST policy whose `key` field is `<prefix>${filename}`: S3 replaces `${filename}`
 * with the name of the uploaded file, and the policy allows any key under the prefix.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
export async function presignPostForm(client: Client, publicUrl: string, request: PostFormRequest): Promise<UploadForm> {
  const policy = client.newPostPolicy();
  policy.setBucket(request.bucket);
  policy.setKeyStartsWith(request.keyPrefix);
  policy.setExpires(new Date(Date.now() + request.expiresSeconds * 1000));
  if (request.maxSizeBytes !== undefined) {
    policy.setContentLengthRange(0, request.maxSizeBytes);
  }
  // S3 rejects a form field that no policy condition covers.
  policy.policy.conditions.push(['eq', '$success_action_status', FORM_SUCCESS_STATUS]);
  policy.formData.success_action_status = FORM_SUCCESS_STATUS;

  const signed = await client.presignedPostPolicy(policy);
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.formData)) {
    fields[name] = String(value);
  }
  fields.key = `${request.keyPrefix}\${filename}`;
  return { url: postUrlOf(publicUrl, request.bucket), fields };
}

/**
 * Builds the bucket's path-style URL from the public URL, because the SDK writes an IPv6
 * host without brackets into its own POST URL (minio 8, `presignedPostPolicy`).
 */
function postUrlOf(publicUrl: string, bucket: string): string {
  const url = parsePublicUrl(publicUrl);
  return `${url.origin}/${bucket}`;
}

function parsePublicUrl(publicUrl: string): URL {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch (error) {
    throw new TenantsError('INVALID_CONFIG', `proxy.publicUrl ${JSON.stringify(publicUrl)} is not a URL; set it to for example http://127.0.0.1:9000`, {
      cause: error,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TenantsError('INVALID_CONFIG', `proxy.publicUrl ${JSON.stringify(publicUrl)} must start with http:// or https://`);
  }
  return url;
}

function portOf(url: URL): number {
  if (url.port !== '') {
    return Number(url.port);
  }
  return url.protocol === 'https:' ? 443 : 80;
}
