import { escapeXml } from '../../s3/error-response.js';
import { pipeline } from 'node:stream/promises';
import { receiveBody, receiveSmallBody } from '../request-body.js';
import { singleHeader } from '../request-context.js';
import { isoDate, sendEmpty, sendXml } from '../responses.js';
import { S3Error } from '../s3-error.js';
import type { ObjectMeta } from '../store/object-meta.js';
import { element, xmlDocument, xmlElements, xmlText } from '../xml.js';
import { bucketOf, keyOf, type HandlerInput } from './handler-input.js';
import { attributesFromHeaders, setObjectHeaders } from './object-attributes.js';
import { checkPreconditions, parseRange } from './object-conditions.js';

/** S3's limit for a single PutObject: 5 GiB. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** S3 object keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

export async function putObject(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const key = checkedKey(keyOf(input));
  await input.store.requireBucket(bucket);

  const received = await receiveToTemp(input, MAX_PUT_BYTES);
  const meta = await input.store.commitObject(bucket, key, received.path, {
    size: received.size,
    etag: received.md5Hex,
    ...attributesFromHeaders(input.context),
  });
  sendEmpty(input.res, 200, { ETag: `"${meta.etag}"` });
}

/** Streams the body into a temp file; the temp file is removed when any body check fails. */
export async function receiveToTemp(input: HandlerInput, maxBytes: number): Promise<{ path: string; size: number; md5Hex: string }> {
  const temp = input.store.createTempFile();
  try {
    const body = await receiveBody(input.req, input.context, input.payload, temp.stream, maxBytes);
    return { path: temp.path, ...body };
  } catch (error) {
    temp.stream.destroy();
    await input.store.discardTemp(temp.path);
    throw error;
  }
}

export async function getObject(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const meta = await input.store.headObject(bucket, keyOf(input));
  const { res, context } = input;
  if (!checkPreconditions(meta, context, res)) {
    return;
  }

  setObjectHeaders(res, meta, context);
  const range = parseRange(singleHeader(context, 'range'), meta.size);
  if (range === undefined) {
    res.writeHead(200, { 'Content-Length': meta.size });
  } else {
    res.writeHead(206, {
      'Content-Length': range.end - range.start + 1,
      'Content-Range': `bytes ${range.start}-${range.end}/${meta.size}`,
    });
  }
  if (meta.size === 0) {
    res.end();
    return;
  }
  // After the status line is sent a failure can only abort the connection.
  await pipeline(input.store.openObject(bucket, meta, range), res).catch(() => res.destroy());
}

export async function headObject(input: HandlerInput): Promise<void> {
  const meta = await input.store.headObject(bucketOf(input), keyOf(input));
  if (!checkPreconditions(meta, input.context, input.res)) {
    return;
  }
  setObjectHeaders(input.res, meta, input.context);
  input.res.writeHead(200, { 'Content-Length': meta.size });
  input.res.end();
}

export async function deleteObject(input: HandlerInput): Promise<void> {
  await input.store.deleteObject(bucketOf(input), keyOf(input));
  sendEmpty(input.res, 204);
}

/** DeleteObjects: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html */
export async function deleteObjects(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  await input.store.requireBucket(bucket);
  const xml = (await receiveSmallBody(input.req, input.context, input.payload)).toString('utf8');
  const keys = xmlElements(xml, 'Object').map((object) => xmlText(object, 'Key'));
  if (keys.length === 0 || keys.length > 1000 || keys.some((key) => key === undefined)) {
    throw new S3Error(400, 'MalformedXML', 'the Delete request must list 1 to 1000 <Object> elements, each with a <Key>');
  }
  const quiet = xmlText(xml, 'Quiet') === 'true';

  const results: string[] = [];
  for (const key of keys as string[]) {
    try {
      await input.store.deleteObject(bucket, key);
      if (!quiet) {
        results.push(`<Deleted>${element('Key', key)}</Deleted>`);
      }
    } catch (error) {
      const code = error instanceof S3Error ? error.code : 'InternalError';
      const message = error instanceof Error ? error.message : String(error);
      results.push(`<Error>${element('Key', key)}${element('Code', code)}${element('Message', message)}</Error>`);
    }
  }
  sendXml(input.res, 200, xmlDocument('DeleteResult', results.join('')));
}

/** CopyObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html */
export async function copyObject(input: HandlerInput): Promise<void> {
  const target = { bucket: bucketOf(input), key: checkedKey(keyOf(input)) };
  const source = parseCopySource(singleHeader(input.context, 'x-amz-copy-source')!);
  const directive = (singleHeader(input.context, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error(400, 'InvalidArgument', `x-amz-metadata-directive "${directive}" must be COPY or REPLACE`);
  }
  if (directive === 'COPY' && source.bucket === target.bucket && source.key === target.key) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'copying an object onto itself needs x-amz-metadata-directive: REPLACE, because nothing else would change',
    );
  }
  await receiveSmallBody(input.req, input.context, input.payload);

  const meta: ObjectMeta = await input.store.copyObject(
    source,
    target,
    directive === 'REPLACE' ? attributesFromHeaders(input.context) : undefined,
  );
  const body = `${element('LastModified', isoDate(meta.lastModified))}${element('ETag', `"${meta.etag}"`)}`;
  sendXml(input.res, 200, xmlDocument('CopyObjectResult', body));
}

/** Parses `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const withoutVersion = header.split('?')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion);
  } catch {
    throw new S3Error(400, 'InvalidArgument', `x-amz-copy-source "${escapeXml(header)}" is not valid percent-encoding`);
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new S3Error(400, 'InvalidArgument', `x-amz-copy-source "${header}" must have the form bucket/key`);
  }
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

export function checkedKey(key: string): string {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new S3Error(400, 'KeyTooLongError', `the key is ${Buffer.byteLength(key)} bytes long; the limit is ${MAX_KEY_BYTES}`);
  }
  return key;
}
