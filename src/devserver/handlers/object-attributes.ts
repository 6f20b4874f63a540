import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../request-context.js';
import { singleHeader } from '../request-context.js';
import type { ObjectAttributes, ObjectMeta } from '../store/object-meta.js';

/** Standard headers that S3 stores with an object and returns on GET and HEAD. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const USER_METADATA_PREFIX = 'x-amz-meta-';

/** Response header overrides of GetObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

/** Reads Content-Type, x-amz-meta-* and the stored standard headers from a write request. */
export function attributesFromHeaders(context: RequestContext): ObjectAttributes {
  const userMetadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(context.headers)) {
    if (name.startsWith(USER_METADATA_PREFIX) && value !== undefined) {
      userMetadata[name.slice(USER_METADATA_PREFIX.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }

  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = singleHeader(context, name);
    if (value !== undefined) {
      headers[name] = value;
    }
  }
  // aws-chunked describes the transfer, not the object, so S3 drops it from the stored value.
  const encoding = headers['content-encoding']
    ?.split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && part !== 'aws-chunked')
    .join(',');
  if (encoding === undefined || encoding === '') {
    delete headers['content-encoding'];
  } else {
    headers['content-encoding'] = encoding;
  }

  return { contentType: singleHeader(context, 'content-type') ?? 'application/octet-stream', userMetadata, headers };
}

/** Sets the object headers of a GET or HEAD response, with any response-* overrides applied. */
export function setObjectHeaders(res: ServerResponse, meta: ObjectMeta, context: RequestContext): void {
  res.setHeader('ETag', `"${meta.etag}"`);
  res.setHeader('Last-Modified', new Date(meta.lastModified).toUTCString());
  res.setHeader('Content-Type', meta.contentType);
  res.setHeader('Accept-Ranges', 'bytes');
  for (const [name, value] of Object.entries(meta.headers)) {
    res.setHeader(name, value);
  }
  for (const [name, value] of Object.entries(meta.userMetadata)) {
    res.setHeader(`${USER_METADATA_PREFIX}${name}`, encodeHeaderValue(value));
  }
  for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = context.query.get(parameter);
    if (value !== undefined) {
      res.setHeader(header, encodeHeaderValue(value));
    }
  }
}

/** Node rejects non-latin1 header values; such values are sent RFC 2047-encoded, as S3 does for metadata. */
function encodeHeaderValue(value: string): string {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
