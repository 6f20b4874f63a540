import { escapeXml } from '../../s3/error-response.js';
import { parseBucketPolicy } from '../bucket-policy.js';
import { receiveSmallBody } from '../request-body.js';
import { isoDate, OWNER_XML, sendEmpty, sendXml } from '../responses.js';
import { S3Error } from '../s3-error.js';
import { xmlDocument } from '../xml.js';
import { bucketOf, type HandlerInput } from './handler-input.js';

export async function listBuckets({ res, store }: HandlerInput): Promise<void> {
  const buckets = await store.listBuckets();
  const entries = buckets
    .map((bucket) => `<Bucket><Name>${escapeXml(bucket.name)}</Name><CreationDate>${isoDate(bucket.created)}</CreationDate></Bucket>`)
    .join('');
  sendXml(res, 200, xmlDocument('ListAllMyBucketsResult', `${OWNER_XML}<Buckets>${entries}</Buckets>`));
}

/** The optional CreateBucketConfiguration body is read (so its hash is checked) and ignored. */
export async function createBucket(input: HandlerInput): Promise<void> {
  await receiveSmallBody(input.req, input.context, input.payload);
  await input.store.createBucket(bucketOf(input));
  sendEmpty(input.res, 200, { Location: `/${bucketOf(input)}` });
}

export async function headBucket(input: HandlerInput): Promise<void> {
  await input.store.requireBucket(bucketOf(input));
  sendEmpty(input.res, 200, { 'x-amz-bucket-region': 'us-east-1' });
}

export async function deleteBucket(input: HandlerInput): Promise<void> {
  await input.store.deleteBucket(bucketOf(input));
  sendEmpty(input.res, 204);
}

/** An empty LocationConstraint means us-east-1, which is the only region this server has. */
export async function getBucketLocation(input: HandlerInput): Promise<void> {
  await input.store.requireBucket(bucketOf(input));
  sendXml(input.res, 200, xmlDocument('LocationConstraint', ''));
}

export async function getBucketPolicy(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  const policy = await input.store.getBucketPolicy(bucket);
  if (policy === undefined) {
    throw new S3Error(404, 'NoSuchBucketPolicy', `the bucket "${bucket}" has no policy`, `/${bucket}`);
  }
  input.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(policy) });
  input.res.end(policy);
}

export async function putBucketPolicy(input: HandlerInput): Promise<void> {
  const bucket = bucketOf(input);
  await input.store.requireBucket(bucket);
  const body = (await receiveSmallBody(input.req, input.context, input.payload)).toString('utf8');
  parseBucketPolicy(body, bucket);
  await input.store.setBucketPolicy(bucket, body);
  sendEmpty(input.res, 204);
}

export async function deleteBucketPolicy(input: HandlerInput): Promise<void> {
  await input.store.setBucketPolicy(bucketOf(input), undefined);
  sendEmpty(input.res, 204);
}

/** Versioning is never enabled here; an empty configuration says so, as S3 does for a new bucket. */
export async function getBucketVersioning(input: HandlerInput): Promise<void> {
  await input.store.requireBucket(bucketOf(input));
  sendXml(input.res, 200, xmlDocument('VersioningConfiguration', ''));
}
