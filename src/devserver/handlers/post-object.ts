import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseSigV4Scope } from '../../s3/credentials.js';
import { verifyPostPolicy } from '../auth/post-policy.js';
import { resolveSigningCredentials } from '../auth/signing-credentials.js';
import { dispositionParameters, formBoundary, MultipartFormReader } from '../multipart-form-reader.js';
import { singleHeader } from '../request-context.js';
import type { RootCredentials } from '../root-credentials.js';
import { sendEmpty, sendXml } from '../responses.js';
import { S3Error } from '../s3-error.js';
import { element, xmlDocument } from '../xml.js';
import { bucketOf, type HandlerInput } from './handler-input.js';
import { checkedKey } from './object-handlers.js';

/** Form fields other than the file are small; S3 limits the fields before the file to 20 KB. */
const MAX_FIELD_BYTES = 20 * 1024;
const MAX_POST_BYTES = 5 * 1024 ** 3;

/**
 * POST Object, the browser form upload that a presigned POST policy authorizes:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html. The form authenticates
 * itself, so this runs without header authentication.
 */
export async function postObject(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const boundary = formBoundary(singleHeader(input.context, 'content-type'));
  if (boundary === undefined) {
    throw new S3Error(400, 'MalformedPOSTRequest', 'a POST upload needs Content-Type multipart/form-data with a boundary');
  }

  const reader = new MultipartFormReader(input.req, boundary);
  const { fields, file } = await readFieldsUntilFile(reader);
  const now = new Date();
  const grant = verifyPostPolicy(fields, bucket, file.filename, formSigningCredentials(input, fields, now), now);
  const key = checkedKey(grant.key);
  await input.store.requireBucket(bucket);

  const received = await receiveFile(input, reader, Math.min(grant.maxLength, MAX_POST_BYTES));
  if (received.size < grant.minLength) {
    await input.store.discardTemp(received.path);
    throw new S3Error(400, 'EntityTooSmall', `the file has ${received.size} bytes; the policy's content-length-range needs at least ${grant.minLength}`);
  }
  await reader.drain();
  const meta = await input.store.commitObject(bucket, key, received.path, {
    size: received.size,
    etag: received.md5Hex,
    ...formAttributes(fields, file.contentType),
  });

  sendPostResult(input, fields, { bucket, key, etag: meta.etag });
}

/**
 * Finds the credentials that signed the policy: the root ones, or temporary ones whose session
 * token is in the x-amz-security-token field. A form without an access key gets the root
 * credentials, and verifyPostPolicy then reports the missing signature fields.
 */
function formSigningCredentials(input: HandlerInput, fields: ReadonlyMap<string, string>, now: Date): RootCredentials {
  const credential = fields.get('x-amz-credential');
  let accessKey = fields.get('awsaccesskeyid');
  if (credential !== undefined) {
    try {
      accessKey = parseSigV4Scope(credential).accessKey;
    } catch (error) {
      throw new S3Error(400, 'InvalidArgument', `the x-amz-credential form field is invalid: ${(error as Error).message}`);
    }
  }
  if (accessKey === undefined) {
    return input.credentials;
  }
  const keys = { root: input.credentials, temporary: input.temporaryCredentials };
  return resolveSigningCredentials(accessKey, fields.get('x-amz-security-token'), keys, now);
}

async function readFieldsUntilFile(reader: MultipartFormReader): Promise<{
  fields: Map<string, string>;
  file: { filename: string; contentType: string | undefined };
}> {
  const fields = new Map<string, string>();
  for (let headers = await reader.nextPart(); headers !== undefined; headers = await reader.nextPart()) {
    const { name, filename } = dispositionParameters(headers.get('content-disposition'));
    if (name === undefined) {
      throw new S3Error(400, 'MalformedPOSTRequest', 'a form part has no name in its Content-Disposition');
    }
    if (name.toLowerCase() === 'file') {
      return { fields, file: { filename: filename ?? '', contentType: headers.get('content-type') } };
    }
    fields.set(name.toLowerCase(), (await reader.readValue(MAX_FIELD_BYTES)).toString('utf8'));
  }
  throw new S3Error(400, 'InvalidArgument', 'the POST form has no "file" field; S3 needs it after all other fields');
}

async function receiveFile(
  input: HandlerInput,
  reader: MultipartFormReader,
  maxBytes: number,
): Promise<{ path: string; size: number; md5Hex: string }> {
  const temp = input.store.createTempFile();
  const md5 = createHash('md5');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) {
        callback(new S3Error(400, 'EntityTooLarge', `the file is larger than the policy's content-length-range maximum of ${maxBytes} bytes`));
        return;
      }
      md5.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from(reader.partBody()), meter, temp.stream);
  } catch (error) {
    temp.stream.destroy();
    await input.store.discardTemp(temp.path);
    throw error;
  }
  return { path: temp.path, size, md5Hex: md5.digest('hex') };
}

function formAttributes(fields: Map<string, string>, fileContentType: string | undefined) {
  const userMetadata: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) {
    if (name.startsWith('x-amz-meta-')) {
      userMetadata[name.slice('x-amz-meta-'.length)] = value;
    } else if (['cache-control', 'content-disposition', 'content-encoding', 'expires'].includes(name)) {
      headers[name] = value;
    }
  }
  return {
    contentType: fields.get('content-type') ?? fileContentType ?? 'application/octet-stream',
    userMetadata,
    headers,
  };
}

/** Sends the response that success_action_redirect or success_action_status requests; S3's default is 204. */
function sendPostResult(input: HandlerInput, fields: Map<string, string>, object: { bucket: string; key: string; etag: string }): void {
  const etag = `"${object.etag}"`;
  const location = `/${object.bucket}/${encodeURIComponent(object.key)}`;
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && redirect !== '') {
    let target: URL;
    try {
      target = new URL(redirect);
    } catch {
      throw new S3Error(400, 'InvalidArgument', `success_action_redirect "${redirect}" is not an absolute URL`);
    }
    target.searchParams.set('bucket', object.bucket);
    target.searchParams.set('key', object.key);
    target.searchParams.set('etag', etag);
    sendEmpty(input.res, 303, { Location: target.toString(), ETag: etag });
    return;
  }

  const status = fields.get('success_action_status');
  if (status === '201') {
    const body = [element('Location', location), element('Bucket', object.bucket), element('Key', object.key), element('ETag', etag)].join('');
    sendXml(input.res, 201, xmlDocument('PostResponse', body), { ETag: etag, Location: location });
    return;
  }
  sendEmpty(input.res, status === '200' ? 200 : 204, { ETag: etag, Location: location });
}
