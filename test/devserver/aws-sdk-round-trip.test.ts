import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  AbortMultipartUploadCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from './helpers.js';

/** Keys that exercise path encoding: space, plus, unicode, a literal %2F, reserved characters, a leading slash. */
const TRICKY_KEYS = ['with space.txt', 'a+b.txt', 'ünïcødé/文件.txt', 'odd%2Fname.txt', "q=1&x!'()*~.txt", '/leading-slash'];

let server: DevServerHandle;
let s3: S3Client;

beforeAll(async () => {
  server = await startDevServer();
  s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
  });
});

afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as S3ServiceException;
  }
  throw new Error('expected the request to fail');
}

describe('@aws-sdk/client-s3 against minio-dev-server', () => {
  it('creates, lists, heads and deletes buckets', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-bucket-a' }));
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((bucket) => bucket.Name)).toContain('sdk-bucket-a');

    const again = await errorOf(s3.send(new CreateBucketCommand({ Bucket: 'sdk-bucket-a' })));
    expect(again.name).toBe('BucketAlreadyOwnedByYou');
    const invalid = await errorOf(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    expect(invalid.name).toBe('InvalidBucketName');

    await s3.send(new HeadBucketCommand({ Bucket: 'sdk-bucket-a' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-bucket-a', Key: 'x', Body: 'x' }));
    const notEmpty = await errorOf(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-bucket-a' })));
    expect(notEmpty.name).toBe('BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-bucket-a', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-bucket-a' }));

    const missing = await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'sdk-bucket-a' })));
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('round-trips objects with tricky keys and metadata', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-objects' }));
    for (const key of TRICKY_KEYS) {
      const body = `body of ${key}`;
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: 'sdk-objects',
          Key: key,
          Body: body,
          ContentType: 'text/plain; charset=utf-8',
          Metadata: { 'my.key': 'dot value', my_key: 'underscore value' },
        }),
      );
      expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);

      const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-objects', Key: key }));
      expect(await got.Body!.transformToString()).toBe(body);
      expect(got.ContentType).toBe('text/plain; charset=utf-8');
      expect(got.Metadata).toEqual({ 'my.key': 'dot value', my_key: 'underscore value' });

      const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk-objects', Key: key }));
      expect(head.ContentLength).toBe(Buffer.byteLength(body));
    }

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-objects' }));
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual([...TRICKY_KEYS].sort());

    for (const key of TRICKY_KEYS) {
      await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-objects', Key: key }));
    }
    const missing = await errorOf(s3.send(new GetObjectCommand({ Bucket: 'sdk-objects', Key: 'with space.txt' })));
    expect(missing.name).toBe('NoSuchKey');
  });

  it('stores the decoded bytes of a streamed PutObject with a CRC32 trailer', async () => {
    // A stream body makes the SDK send STREAMING-UNSIGNED-PAYLOAD-TRAILER with x-amz-checksum-crc32.
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-trailer' }));
    const body = randomBytes(300_000);
    await s3.send(
      new PutObjectCommand({ Bucket: 'sdk-trailer', Key: 'streamed.bin', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-trailer', Key: 'streamed.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(got.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
  });

  it('serves byte ranges', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-range' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-range', Key: 'digits', Body: '0123456789' }));
    const middle = await s3.send(new GetObjectCommand({ Bucket: 'sdk-range', Key: 'digits', Range: 'bytes=2-5' }));
    expect(await middle.Body!.transformToString()).toBe('2345');
    expect(middle.ContentRange).toBe('bytes 2-5/10');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: 'sdk-range', Key: 'digits', Range: 'bytes=-3' }));
    expect(await suffix.Body!.transformToString()).toBe('789');
    const beyond = await errorOf(s3.send(new GetObjectCommand({ Bucket: 'sdk-range', Key: 'digits', Range: 'bytes=20-' })));
    expect(beyond.name).toBe('InvalidRange');
  });

  it('lists with prefix, delimiter and pages', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-list' }));
    const keys = ['a/1', 'a/2', 'a/b/3', 'b/4', 'c', 'd e/5'];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: 'sdk-list', Key: key, Body: key }));
    }

    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-list', Delimiter: '/' }));
    expect(top.Contents?.map((object) => object.Key)).toEqual(['c']);
    expect(top.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['a/', 'b/', 'd e/']);

    const underA = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-list', Prefix: 'a/', Delimiter: '/' }));
    expect(underA.Contents?.map((object) => object.Key)).toEqual(['a/1', 'a/2']);
    expect(underA.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['a/b/']);

    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const result = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-list', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(result.Contents ?? []).map((object) => object.Key!));
      token = result.NextContinuationToken;
      if (result.IsTruncated !== true) break;
    }
    expect(seen).toEqual(keys);

    const startAfter = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-list', StartAfter: 'b/4' }));
    expect(startAfter.Contents?.map((object) => object.Key)).toEqual(['c', 'd e/5']);

    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'sdk-list', MaxKeys: 3, Delimiter: '/' }));
    expect(v1.IsTruncated).toBe(true);
    expect(v1.NextMarker).toBe('c');
    const v1Next = await s3.send(new ListObjectsCommand({ Bucket: 'sdk-list', Marker: v1.NextMarker, Delimiter: '/' }));
    expect(v1Next.CommonPrefixes?.map((prefix) => prefix.Prefix)).toEqual(['d e/']);

    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-list', Prefix: 'd e', EncodingType: 'url' }));
    expect(encoded.Contents?.map((object) => object.Key)).toEqual(['d%20e/5']);
  });

  it('copies objects and deletes several at once', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-copy' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-copy', Key: 'src file', Body: 'copied', Metadata: { a: '1' } }));
    await s3.send(new CopyObjectCommand({ Bucket: 'sdk-copy', Key: 'dst+file', CopySource: `sdk-copy/${encodeURIComponent('src file')}` }));
    const copy = await s3.send(new GetObjectCommand({ Bucket: 'sdk-copy', Key: 'dst+file' }));
    expect(await copy.Body!.transformToString()).toBe('copied');
    expect(copy.Metadata).toEqual({ a: '1' });

    const deleted = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'sdk-copy', Delete: { Objects: [{ Key: 'src file' }, { Key: 'dst+file' }, { Key: 'never' }] } }),
    );
    expect(deleted.Deleted?.map((entry) => entry.Key).sort()).toEqual(['dst+file', 'never', 'src file']);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-copy' }));
    expect(left.KeyCount).toBe(0);
  });

  it('uploads multipart with lib-storage', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-multipart' }));
    const body = randomBytes(12 * 1024 * 1024 + 123);
    const upload = new Upload({ client: s3, params: { Bucket: 'sdk-multipart', Key: 'big/ünï file.bin', Body: body }, partSize: 5 * 1024 * 1024, queueSize: 2 });
    const result = await upload.done();
    expect(result.ETag).toMatch(/-3"$/);

    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-multipart', Key: 'big/ünï file.bin' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.length).toBe(body.length);
    expect(bytes.equals(body)).toBe(true);
  });

  it('lists and aborts multipart uploads and parts', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-uploads' }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sdk-uploads', Key: 'pending' }));
    await s3.send(new UploadPartCommand({ Bucket: 'sdk-uploads', Key: 'pending', UploadId: created.UploadId, PartNumber: 1, Body: 'part one' }));

    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'sdk-uploads' }));
    expect(uploads.Uploads?.map((upload) => upload.UploadId)).toEqual([created.UploadId]);
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'sdk-uploads', Key: 'pending', UploadId: created.UploadId }));
    expect(parts.Parts?.map((part) => part.Size)).toEqual([8]);

    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'sdk-uploads', Key: 'pending', UploadId: created.UploadId }));
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'sdk-uploads' }));
    expect(after.Uploads ?? []).toEqual([]);
  });

  it('accepts presigned GET, PUT and POST', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-presigned' }));
    for (const key of TRICKY_KEYS) {
      const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'sdk-presigned', Key: key }), { expiresIn: 300 });
      const put = await fetch(putUrl, { method: 'PUT', body: `presigned ${key}` });
      expect(put.status).toBe(200);

      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sdk-presigned', Key: key }), { expiresIn: 300 });
      const get = await fetch(getUrl);
      expect(get.status).toBe(200);
      expect(await get.text()).toBe(`presigned ${key}`);
    }

    const post = await createPresignedPost(s3, {
      Bucket: 'sdk-presigned',
      Key: 'uploads/${filename}',
      Conditions: [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1024]],
      Fields: { 'Content-Type': 'text/plain' },
      Expires: 300,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('success_action_status', '201');
    form.append('file', new Blob(['form body']), 'from form.txt');
    const posted = await fetch(post.url, { method: 'POST', body: form });
    expect(posted.status).toBe(201);
    expect(await posted.text()).toContain('<Key>uploads/from form.txt</Key>');

    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-presigned', Key: 'uploads/from form.txt' }));
    expect(await got.Body!.transformToString()).toBe('form body');
    expect(got.ContentType).toBe('text/plain');
  });

  it('lets a bucket policy allow anonymous reads', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-public' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-public', Key: 'open.txt', Body: 'public' }));
    const anonymousUrl = `${server.url}/sdk-public/open.txt`;
    const before = await fetch(anonymousUrl);
    expect(before.status).toBe(403);
    expect(await before.text()).toContain('<Code>AccessDenied</Code>');

    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::sdk-public/*'] },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::sdk-public' },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'sdk-public', Policy: JSON.stringify(policy) }));
    const stored = await s3.send(new GetBucketPolicyCommand({ Bucket: 'sdk-public' }));
    expect(JSON.parse(stored.Policy!)).toEqual(policy);

    const after = await fetch(anonymousUrl);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('public');
    const list = await fetch(`${server.url}/sdk-public?list-type=2`);
    expect(list.status).toBe(200);
    const anonymousPut = await fetch(anonymousUrl, { method: 'PUT', body: 'overwrite' });
    expect(anonymousPut.status).toBe(403);

    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'sdk-public' }));
    const revoked = await fetch(anonymousUrl);
    expect(revoked.status).toBe(403);
  });

  it('answers CORS preflight and exposes ETag', async () => {
    const preflight = await fetch(`${server.url}/sdk-public/open.txt`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.localhost', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.localhost');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');

    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'sdk-public', Key: 'cors.txt' }), { expiresIn: 60 });
    const put = await fetch(url, { method: 'PUT', body: 'cors', headers: { Origin: 'http://app.localhost' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe('http://app.localhost');
    expect(put.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  it('answers unknown operations with NotImplemented', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sdk-public', Key: 'open.txt' }), { expiresIn: 60 });
    const tagging = await fetch(url.replace('?', '?tagging&'));
    expect(tagging.status).toBe(501);
    expect(await tagging.text()).toContain('<Code>NotImplemented</Code>');
  });
});
