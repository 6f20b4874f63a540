import type { ObjectMeta } from './store/object-meta.js';

/**
 * The paging and grouping of ListObjects (v1 and v2), as a pure function over the sorted
 * keys: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */

export interface ListRequest {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Lists keys strictly after this one (marker, start-after or continuation token). */
  after: string;
}

export interface ListPage {
  objects: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, to continue from when truncated. */
  nextMarker: string | undefined;
}

export function listPage(sorted: readonly ObjectMeta[], request: ListRequest): ListPage {
  const objects: ObjectMeta[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  // A marker that is a common prefix means every key under it was already returned.
  const skipUnder = request.delimiter !== '' && request.after.endsWith(request.delimiter) ? request.after : undefined;

  for (const meta of sorted) {
    const key = meta.key;
    if (!key.startsWith(request.prefix) || !(compareUtf8(key, request.after) > 0)) {
      continue;
    }
    if (skipUnder !== undefined && key.startsWith(skipUnder)) {
      continue;
    }

    const commonPrefix = groupingPrefix(key, request);
    if (commonPrefix !== undefined && commonPrefix === commonPrefixes[commonPrefixes.length - 1]) {
      continue;
    }
    if (objects.length + commonPrefixes.length >= request.maxKeys) {
      return { objects, commonPrefixes, isTruncated: true, nextMarker: last };
    }
    if (commonPrefix === undefined) {
      objects.push(meta);
      last = key;
    } else {
      commonPrefixes.push(commonPrefix);
      last = commonPrefix;
    }
  }
  return { objects, commonPrefixes, isTruncated: false, nextMarker: undefined };
}

function groupingPrefix(key: string, request: ListRequest): string | undefined {
  if (request.delimiter === '') {
    return undefined;
  }
  const index = key.indexOf(request.delimiter, request.prefix.length);
  return index === -1 ? undefined : key.slice(0, index + request.delimiter.length);
}

/** S3 orders keys by their UTF-8 bytes, which differs from UTF-16 order for some characters. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Encodes a name for `encoding-type=url` responses: each `/`-separated segment is
 * percent-encoded as in SigV4, so clients can decode it with decodeURIComponent.
 */
export function urlEncodeName(name: string): string {
  return name
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}
