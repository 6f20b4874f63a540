import type { IncomingHttpHeaders } from 'node:http';
import { parseRawQuery } from '../s3/credentials.js';
import { S3Error } from './s3-error.js';

/**
 * A request as the handlers see it. `rawPath` and `rawQuery` are exactly what the client
 * sent, because signatures cover them byte for byte; `bucket` and `key` are decoded once.
 */
export interface RequestContext {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Decoded query parameters; the first value wins for a repeated name. */
  query: Map<string, string>;
  queryPairs: Array<[string, string]>;
  bucket: string | undefined;
  key: string | undefined;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/**
 * Splits the request target into bucket and key the way MinIO does for path-style
 * requests: the path is decoded once per segment and `//` is kept, so `PUT /b//k`
 * writes the key `/k`.
 */
export function parseRequestTarget(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  rawHeaders: string[],
): RequestContext {
  const questionMark = url.indexOf('?');
  const rawPath = questionMark === -1 ? url : url.slice(0, questionMark);
  const rawQuery = questionMark === -1 ? '' : url.slice(questionMark + 1);
  if (!rawPath.startsWith('/')) {
    throw new S3Error(400, 'InvalidRequest', `the request target "${rawPath.slice(0, 100)}" must start with "/"`);
  }

  let queryPairs: Array<[string, string]>;
  try {
    queryPairs = parseRawQuery(rawQuery);
  } catch (error) {
    throw new S3Error(400, 'InvalidArgument', (error as Error).message);
  }
  const query = new Map<string, string>();
  for (const [name, value] of queryPairs) {
    if (!query.has(name)) {
      query.set(name, value);
    }
  }

  const path = rawPath.slice(1);
  const slash = path.indexOf('/');
  const rawBucket = slash === -1 ? path : path.slice(0, slash);
  const rawKey = slash === -1 ? '' : path.slice(slash + 1);
  const bucket = rawBucket === '' ? undefined : decodeSegments(rawBucket);
  const key = rawKey === '' ? undefined : decodeSegments(rawKey);
  return { method, rawPath, rawQuery, query, queryPairs, bucket, key, headers, rawHeaders };
}

function decodeSegments(raw: string): string {
  try {
    return raw.split('/').map((segment) => decodeURIComponent(segment)).join('/');
  } catch {
    throw new S3Error(400, 'InvalidURI', `the path "${raw.slice(0, 200)}" is not valid percent-encoding`);
  }
}

/** Returns the values of a header in the order received; Node joins some repeats, rawHeaders does not. */
export function headerValues(context: RequestContext, name: string): string[] {
  const values: string[] = [];
  for (let index = 0; index < context.rawHeaders.length; index += 2) {
    if (context.rawHeaders[index]!.toLowerCase() === name) {
      values.push(context.rawHeaders[index + 1]!);
    }
  }
  return values;
}

export function singleHeader(context: RequestContext, name: string): string | undefined {
  const value = context.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
