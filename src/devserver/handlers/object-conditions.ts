import type { ServerResponse } from 'node:http';
import { singleHeader, type RequestContext } from '../request-context.js';
import { sendEmpty } from '../responses.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta } from '../store/object-meta.js';

/**
 * Applies If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since (RFC 9110
 * section 13). Sends 304 and returns false when the client's copy is current; throws
 * PreconditionFailed (412) when a precondition fails.
 */
export function checkPreconditions(meta: ObjectMeta, context: RequestContext, res: ServerResponse): boolean {
  const etag = `"${meta.etag}"`;
  const modified = Math.floor(new Date(meta.lastModified).getTime() / 1000) * 1000;
  const ifMatch = singleHeader(context, 'if-match');
  const ifNoneMatch = singleHeader(context, 'if-none-match');
  const ifModifiedSince = singleHeader(context, 'if-modified-since');
  const ifUnmodifiedSince = singleHeader(context, 'if-unmodified-since');

  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag)) {
    throw new S3Error(412, 'PreconditionFailed', 'the If-Match ETag does not match the object');
  }
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && modified > Date.parse(ifUnmodifiedSince)) {
    throw new S3Error(412, 'PreconditionFailed', 'the object was modified after the If-Unmodified-Since date');
  }
  const notModified =
    ifNoneMatch !== undefined
      ? etagListMatches(ifNoneMatch, etag)
      : ifModifiedSince !== undefined && modified <= Date.parse(ifModifiedSince);
  if (notModified) {
    sendEmpty(res, 304, { ETag: etag, 'Last-Modified': new Date(meta.lastModified).toUTCString() });
    return false;
  }
  return true;
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => {
    const candidate = item.trim();
    return candidate === '*' || candidate === etag || `"${candidate}"` === etag;
  });
}

/**
 * Parses a single `bytes=` range (RFC 9110 section 14.1.2). Returns undefined for no
 * range, or for a form S3 ignores, such as several ranges. Throws InvalidRange (416).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) {
    return undefined;
  }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === '' && match[2] === '')) {
    return undefined;
  }
  const [, startText = '', endText = ''] = match;
  let start: number;
  let end: number;
  if (startText === '') {
    const suffix = Number(endText);
    start = Math.max(0, size - suffix);
    end = size - 1;
    if (suffix === 0) {
      throw invalidRange(size);
    }
  } else {
    start = Number(startText);
    end = endText === '' ? size - 1 : Math.min(Number(endText), size - 1);
    if (endText !== '' && Number(endText) < start) {
      return undefined;
    }
  }
  if (start >= size) {
    throw invalidRange(size);
  }
  return { start, end };
}

function invalidRange(size: number): S3Error {
  return new S3Error(416, 'InvalidRange', `the requested range is not satisfiable for an object of ${size} bytes`);
}
