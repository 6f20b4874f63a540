import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Permissive CORS, since buckets here have no CORS configuration: any origin may call, so a
 * browser page can use presigned PUT and POST uploads.
 * Headers: https://fetch.spec.whatwg.org/#http-cors-protocol
 */

const ALLOWED_METHODS = 'GET, PUT, HEAD, POST, DELETE, OPTIONS';
/** Response headers a page's script may read; ETag matters most, for multipart uploads. */
const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Content-Length',
  'Content-Range',
  'Content-Type',
  'Content-Disposition',
  'Content-Encoding',
  'Last-Modified',
  'Accept-Ranges',
  'x-amz-request-id',
  'x-amz-version-id',
  'x-amz-server-side-encryption',
].join(', ');

/**
 * Adds the CORS headers to a response of a request that carries Origin, and responds to
 * a preflight request. Returns true when the response is complete.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) {
    return false;
  }
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');

  const requestedMethod = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || requestedMethod === undefined) {
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    return false;
  }
  res.writeHead(200, {
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    'Access-Control-Max-Age': '3600',
    'Content-Length': 0,
  });
  res.end();
  return true;
}
