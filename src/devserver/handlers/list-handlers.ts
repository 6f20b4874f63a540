import { compareUtf8, listPage, urlEncodeName, type ListPage } from '../list-objects.js';
import { isoDate, OWNER_XML, sendXml } from '../responses.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta } from '../store/object-meta.js';
import { element, xmlDocument } from '../xml.js';
import { bucketOf, type HandlerInput } from './handler-input.js';

const MAX_KEYS = 1000;

/** ListObjectsV2: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
export async function listObjectsV2(input: HandlerInput): Promise<void> {
  const { query } = input.context;
  const bucket = bucketOf(input);
  const encode = encoder(query.get('encoding-type'));
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = parseMaxKeys(query.get('max-keys'), 'max-keys');
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after') ?? '';
  const after = token === undefined ? startAfter : maxUtf8(decodeToken(token), startAfter);

  const page = pageOrEmpty(await input.store.listObjects(bucket), { prefix, delimiter, maxKeys, after });
  const body = [
    element('Name', bucket),
    element('Prefix', encode(prefix)),
    delimiter === '' ? '' : element('Delimiter', encode(delimiter)),
    element('MaxKeys', maxKeys),
    element('KeyCount', page.objects.length + page.commonPrefixes.length),
    element('IsTruncated', page.isTruncated),
    element('ContinuationToken', token),
    page.isTruncated ? element('NextContinuationToken', encodeToken(page.nextMarker!)) : '',
    startAfter === '' ? '' : element('StartAfter', encode(startAfter)),
    element('EncodingType', query.get('encoding-type')),
    contentsXml(page, encode, query.get('fetch-owner') === 'true'),
  ].join('');
  sendXml(input.res, 200, xmlDocument('ListBucketResult', body));
}

/** ListObjects (v1): https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html */
export async function listObjectsV1(input: HandlerInput): Promise<void> {
  const { query } = input.context;
  const bucket = bucketOf(input);
  const encode = encoder(query.get('encoding-type'));
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = parseMaxKeys(query.get('max-keys'), 'max-keys');
  const marker = query.get('marker') ?? '';

  const page = pageOrEmpty(await input.store.listObjects(bucket), { prefix, delimiter, maxKeys, after: marker });
  const body = [
    element('Name', bucket),
    element('Prefix', encode(prefix)),
    element('Marker', encode(marker)),
    element('MaxKeys', maxKeys),
    delimiter === '' ? '' : element('Delimiter', encode(delimiter)),
    element('IsTruncated', page.isTruncated),
    page.isTruncated ? element('NextMarker', encode(page.nextMarker!)) : '',
    element('EncodingType', query.get('encoding-type')),
    contentsXml(page, encode, true),
  ].join('');
  sendXml(input.res, 200, xmlDocument('ListBucketResult', body));
}

/**
 * ListMultipartUploads with prefix, key-marker and max-uploads.
 * NOTE: delimiter and upload-id-marker are ignored, so uploads are never grouped.
 */
export async function listMultipartUploads(input: HandlerInput): Promise<void> {
  const { query } = input.context;
  const bucket = bucketOf(input);
  const encode = encoder(query.get('encoding-type'));
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const maxUploads = parseMaxKeys(query.get('max-uploads'), 'max-uploads');

  const uploads = (await input.multipart.listUploads(bucket)).filter(
    (upload) => upload.key.startsWith(prefix) && compareUtf8(upload.key, keyMarker) > 0,
  );
  const shown = uploads.slice(0, maxUploads);
  const isTruncated = uploads.length > shown.length;
  const last = shown[shown.length - 1];
  const entries = shown
    .map(
      (upload) =>
        `<Upload>${element('Key', encode(upload.key))}${element('UploadId', upload.uploadId)}` +
        `<Initiator><ID>minio</ID><DisplayName>minio</DisplayName></Initiator>${OWNER_XML}` +
        `<StorageClass>STANDARD</StorageClass>${element('Initiated', isoDate(upload.initiated))}</Upload>`,
    )
    .join('');
  const body = [
    element('Bucket', bucket),
    element('KeyMarker', encode(keyMarker)),
    element('UploadIdMarker', query.get('upload-id-marker') ?? ''),
    isTruncated && last ? element('NextKeyMarker', encode(last.key)) + element('NextUploadIdMarker', last.uploadId) : '',
    element('Prefix', encode(prefix)),
    element('MaxUploads', maxUploads),
    element('IsTruncated', isTruncated),
    element('EncodingType', query.get('encoding-type')),
    entries,
  ].join('');
  sendXml(input.res, 200, xmlDocument('ListMultipartUploadsResult', body));
}

function pageOrEmpty(sorted: ObjectMeta[], request: Parameters<typeof listPage>[1]): ListPage {
  return request.maxKeys === 0
    ? { objects: [], commonPrefixes: [], isTruncated: false, nextMarker: undefined }
    : listPage(sorted, request);
}

function contentsXml(page: ListPage, encode: (name: string) => string, withOwner: boolean): string {
  const objects = page.objects
    .map(
      (meta) =>
        `<Contents>${element('Key', encode(meta.key))}${element('LastModified', isoDate(meta.lastModified))}` +
        `${element('ETag', `"${meta.etag}"`)}${element('Size', meta.size)}` +
        `${withOwner ? OWNER_XML : ''}<StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const prefixes = page.commonPrefixes.map((prefix) => `<CommonPrefixes>${element('Prefix', encode(prefix))}</CommonPrefixes>`).join('');
  return objects + prefixes;
}

function encoder(encodingType: string | undefined): (name: string) => string {
  if (encodingType === undefined) {
    return (name) => name;
  }
  if (encodingType !== 'url') {
    throw new S3Error(400, 'InvalidArgument', `encoding-type "${encodingType}" is invalid; the only value is "url"`);
  }
  return urlEncodeName;
}

export function parseMaxKeys(value: string | undefined, name: string): number {
  if (value === undefined) {
    return MAX_KEYS;
  }
  if (!/^\d+$/.test(value)) {
    throw new S3Error(400, 'InvalidArgument', `${name} "${value}" must be a non-negative integer`);
  }
  return Math.min(Number(value), MAX_KEYS);
}

/** Continuation tokens are opaque to clients; this one is the base64 of the last key returned. */
function encodeToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token)) {
    throw new S3Error(400, 'InvalidArgument', 'the continuation-token is invalid; pass the NextContinuationToken of the previous page');
  }
  return Buffer.from(token, 'base64').toString('utf8');
}

function maxUtf8(a: string, b: string): string {
  return compareUtf8(a, b) >= 0 ? a : b;
}
