import { singleHeader, type RequestContext } from './request-context.js';
import { S3Error, notImplemented } from './s3-error.js';
import * as buckets from './handlers/bucket-handlers.js';
import type { Handler } from './handlers/handler-input.js';
import * as lists from './handlers/list-handlers.js';
import * as multipart from './handlers/multipart-handlers.js';
import * as objects from './handlers/object-handlers.js';
import { postObject } from './handlers/post-object.js';
import { formBoundary } from './multipart-form-reader.js';
import { assumeRole } from './sts/assume-role.js';

export interface Route {
  /** The S3 operation name, for logs. */
  operation: string;
  handler: Handler;
  /** The IAM action and resource a bucket policy must allow for an anonymous request; undefined means never. */
  anonymous?: { action: string; resource: string };
  /**
   * The handler authenticates the request itself, so the dispatcher skips header authentication:
   * POST Object checks the signature in its form, AssumeRole one signed for service `sts`.
   */
  authenticatesItself?: boolean;
}

/**
 * Bucket and object sub-resources that this server does not implement. A request naming
 * one gets 501 NotImplemented rather than being served as a plain GET or PUT.
 */
const UNSUPPORTED_SUB_RESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select', 'tagging',
  'torrent', 'versions', 'website',
];

/** Picks the S3 operation for a path-style request. */
export function routeRequest(context: RequestContext): Route {
  const { method, bucket, key, query } = context;
  const unsupported = UNSUPPORTED_SUB_RESOURCES.find((name) => query.has(name));
  if (unsupported !== undefined) {
    throw notImplemented(`the "?${unsupported}" sub-resource`);
  }
  if (bucket === undefined) {
    if (method === 'GET') {
      return { operation: 'ListBuckets', handler: buckets.listBuckets };
    }
    if (isStsRequest(context)) {
      return { operation: 'AssumeRole', handler: assumeRole, authenticatesItself: true };
    }
    throw methodNotAllowed(method, 'the service endpoint');
  }
  return key === undefined ? routeBucket(context, bucket) : routeObject(context);
}

function routeBucket(context: RequestContext, bucket: string): Route {
  const { method, query } = context;
  const resource = `arn:aws:s3:::${bucket}`;
  switch (method) {
    case 'GET':
      if (query.has('location')) return { operation: 'GetBucketLocation', handler: buckets.getBucketLocation };
      if (query.has('policy')) return { operation: 'GetBucketPolicy', handler: buckets.getBucketPolicy };
      if (query.has('versioning')) return { operation: 'GetBucketVersioning', handler: buckets.getBucketVersioning };
      if (query.has('uploads')) return { operation: 'ListMultipartUploads', handler: lists.listMultipartUploads };
      if (query.get('list-type') === '2') {
        return { operation: 'ListObjectsV2', handler: lists.listObjectsV2, anonymous: { action: 's3:ListBucket', resource } };
      }
      return { operation: 'ListObjects', handler: lists.listObjectsV1, anonymous: { action: 's3:ListBucket', resource } };
    case 'HEAD':
      return { operation: 'HeadBucket', handler: buckets.headBucket, anonymous: { action: 's3:ListBucket', resource } };
    case 'PUT':
      if (query.has('policy')) return { operation: 'PutBucketPolicy', handler: buckets.putBucketPolicy };
      if (query.has('versioning')) throw notImplemented('PutBucketVersioning');
      return { operation: 'CreateBucket', handler: buckets.createBucket };
    case 'DELETE':
      if (query.has('policy')) return { operation: 'DeleteBucketPolicy', handler: buckets.deleteBucketPolicy };
      return { operation: 'DeleteBucket', handler: buckets.deleteBucket };
    case 'POST':
      if (query.has('delete')) return { operation: 'DeleteObjects', handler: objects.deleteObjects };
      if (formBoundary(singleHeader(context, 'content-type')) !== undefined) {
        return { operation: 'PostObject', handler: postObject, authenticatesItself: true };
      }
      throw notImplemented(`POST on a bucket without ?delete or a multipart/form-data body`);
    default:
      throw methodNotAllowed(method, 'a bucket');
  }
}

function routeObject(context: RequestContext): Route {
  const { method, query } = context;
  const resource = `arn:aws:s3:::${context.bucket!}/${context.key!}`;
  const hasUpload = query.has('uploadId');
  switch (method) {
    case 'GET':
      if (hasUpload) return { operation: 'ListParts', handler: multipart.listParts };
      return { operation: 'GetObject', handler: objects.getObject, anonymous: { action: 's3:GetObject', resource } };
    case 'HEAD':
      return { operation: 'HeadObject', handler: objects.headObject, anonymous: { action: 's3:GetObject', resource } };
    case 'PUT':
      if (hasUpload || query.has('partNumber')) return { operation: 'UploadPart', handler: multipart.uploadPart };
      if (singleHeader(context, 'x-amz-copy-source') !== undefined) return { operation: 'CopyObject', handler: objects.copyObject };
      return { operation: 'PutObject', handler: objects.putObject, anonymous: { action: 's3:PutObject', resource } };
    case 'DELETE':
      if (hasUpload) return { operation: 'AbortMultipartUpload', handler: multipart.abortMultipartUpload };
      return { operation: 'DeleteObject', handler: objects.deleteObject, anonymous: { action: 's3:DeleteObject', resource } };
    case 'POST':
      if (query.has('uploads')) return { operation: 'CreateMultipartUpload', handler: multipart.createMultipartUpload };
      if (hasUpload) return { operation: 'CompleteMultipartUpload', handler: multipart.completeMultipartUpload };
      throw notImplemented('POST on an object without ?uploads or ?uploadId');
    default:
      throw methodNotAllowed(method, 'an object');
  }
}

/** MinIO's STS route (cmd/sts-handlers.go): `POST /` with a form body and no query string. */
function isStsRequest(context: RequestContext): boolean {
  const contentType = singleHeader(context, 'content-type') ?? '';
  return context.method === 'POST' && context.rawQuery === '' && contentType.toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function methodNotAllowed(method: string, target: string): S3Error {
  return new S3Error(405, 'MethodNotAllowed', `the method ${method} is not allowed on ${target}`);
}
