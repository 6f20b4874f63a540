import { receiveSmallBody } from '../request-body.js';
import { isoDate, OWNER_XML, sendEmpty, sendXml } from '../responses.js';
import { S3Error, notImplemented } from '../s3-error.js';
import { MAX_PART_NUMBER } from '../store/multipart-store.js';
import { element, xmlDocument, xmlElements, xmlText } from '../xml.js';
import { bucketOf, keyOf, type HandlerInput } from './handler-input.js';
import { attributesFromHeaders } from './object-attributes.js';
import { checkedKey, receiveToTemp } from './object-handlers.js';
import { parseMaxKeys } from './list-handlers.js';
import { singleHeader } from '../request-context.js';

/** S3's largest part: 5 GiB. */
const MAX_PART_BYTES = 5 * 1024 ** 3;

export async function createMultipartUpload(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const key = checkedKey(keyOf(input));
  await receiveSmallBody(input.req, input.context, input.payload);
  const uploadId = await input.multipart.createUpload(bucket, key, attributesFromHeaders(input.context));
  const body = `${element('Bucket', bucket)}${element('Key', key)}${element('UploadId', uploadId)}`;
  sendXml(input.res, 200, xmlDocument('InitiateMultipartUploadResult', body));
}

export async function uploadPart(input: HandlerInput): Promise<void> {
  if (singleHeader(input.context, 'x-amz-copy-source') !== undefined) {
    throw notImplemented('UploadPartCopy');
  }
  const partNumber = parsePartNumber(input.context.query.get('partNumber'));
  const upload = await input.multipart.getUpload(bucketOf(input), keyOf(input), input.context.query.get('uploadId')!);

  const received = await receiveToTemp(input, MAX_PART_BYTES);
  const part = await input.multipart.commitPart(upload, partNumber, received.path, { etag: received.md5Hex, size: received.size });
  sendEmpty(input.res, 200, { ETag: `"${part.etag}"` });
}

export async function completeMultipartUpload(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const key = keyOf(input);
  const upload = await input.multipart.getUpload(bucket, key, input.context.query.get('uploadId')!);
  const xml = (await receiveSmallBody(input.req, input.context, input.payload)).toString('utf8');
  const requested = xmlElements(xml, 'Part').map((part) => ({
    partNumber: parsePartNumber(xmlText(part, 'PartNumber')),
    etag: xmlText(part, 'ETag') ?? '',
  }));

  const meta = await input.multipart.completeUpload(upload, requested);
  const body = [
    element('Location', `/${bucket}/${key}`),
    element('Bucket', bucket),
    element('Key', key),
    element('ETag', `"${meta.etag}"`),
  ].join('');
  sendXml(input.res, 200, xmlDocument('CompleteMultipartUploadResult', body));
}

export async function abortMultipartUpload(input: HandlerInput): Promise<void> {
  const upload = await input.multipart.getUpload(bucketOf(input), keyOf(input), input.context.query.get('uploadId')!);
  await input.multipart.abortUpload(upload);
  sendEmpty(input.res, 204);
}

/** ListParts with part-number-marker and max-parts. */
export async function listParts(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const key = keyOf(input);
  const upload = await input.multipart.getUpload(bucket, key, input.context.query.get('uploadId')!);
  const marker = Number(input.context.query.get('part-number-marker') ?? '0') || 0;
  const maxParts = parseMaxKeys(input.context.query.get('max-parts'), 'max-parts');

  const parts = (await input.multipart.listParts(upload)).filter((part) => part.partNumber > marker);
  const shown = parts.slice(0, maxParts);
  const isTruncated = parts.length > shown.length;
  const entries = shown
    .map(
      (part) =>
        `<Part>${element('PartNumber', part.partNumber)}${element('LastModified', isoDate(part.lastModified))}` +
        `${element('ETag', `"${part.etag}"`)}${element('Size', part.size)}</Part>`,
    )
    .join('');
  const body = [
    element('Bucket', bucket),
    element('Key', key),
    element('UploadId', upload.uploadId),
    `<Initiator><ID>minio</ID><DisplayName>minio</DisplayName></Initiator>${OWNER_XML}`,
    '<StorageClass>STANDARD</StorageClass>',
    element('PartNumberMarker', marker),
    isTruncated ? element('NextPartNumberMarker', shown[shown.length - 1]!.partNumber) : '',
    element('MaxParts', maxParts),
    element('IsTruncated', isTruncated),
    entries,
  ].join('');
  sendXml(input.res, 200, xmlDocument('ListPartsResult', body));
}

function parsePartNumber(value: string | undefined): number {
  const number = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || number < 1 || number > MAX_PART_NUMBER) {
    throw new S3Error(400, 'InvalidArgument', `part number "${value ?? ''}" must be an integer from 1 to ${MAX_PART_NUMBER}`);
  }
  return number;
}
