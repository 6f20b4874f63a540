import type { IncomingMessage } from 'node:http';
import { parseAssumeRoleResponse, type LearnedCredential } from './assume-role-response.js';

/**
 * Tells whether a request may be an STS AssumeRole* call, whose response teaches the
 * proxy a temporary access key. MinIO serves STS as `POST /` with a form body
 * (cmd/sts-handlers.go); the web identity variants may put `Action=AssumeRole…` in the
 * query instead. S3 itself has no path-style `POST /` with a form body. Requests other
 * than POST pay one comparison.
 */
export function mayBeAssumeRole(req: IncomingMessage): boolean {
  if (req.method !== 'POST') {
    return false;
  }
  const url = req.url ?? '';
  if (url !== '/' && !url.startsWith('/?')) {
    return false;
  }
  const contentType = req.headers['content-type'];
  return url.includes('Action=AssumeRole') || (contentType !== undefined && contentType.toLowerCase().startsWith('application/x-www-form-urlencoded'));
}

/**
 * Copies up to `maxBytes` of a successful XML response as it streams to the client, and
 * calls `onCredential` with the access key and expiry once the body is complete. A
 * larger body is not parsed: AssumeRole responses are about 1 KiB.
 */
export function teeAssumeRoleResponse(
  upstreamRes: IncomingMessage,
  maxBytes: number,
  onCredential: (credential: LearnedCredential) => void,
): void {
  const contentType = upstreamRes.headers['content-type'];
  if (upstreamRes.statusCode !== 200 || contentType === undefined || !contentType.includes('xml')) {
    return;
  }

  const chunks: Buffer[] = [];
  let bytes = 0;
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      upstreamRes.off('data', onData);
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  };
  upstreamRes.on('data', onData);
  upstreamRes.once('end', () => {
    if (bytes > maxBytes) {
      return;
    }
    const credential = parseAssumeRoleResponse(Buffer.concat(chunks).toString('utf8'));
    if (credential !== undefined) {
      onCredential(credential);
    }
  });
}
