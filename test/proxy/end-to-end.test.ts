import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from '../devserver/helpers.js';
import { Cleanup, generatedBody, route, startTestProxy, type ProxyFixture } from './helpers.js';

const cleanup = new Cleanup();
let tenantA: DevServerHandle;
let tenantB: DevServerHandle;
let fixture: ProxyFixture;

beforeAll(async () => {
  tenantA = await startDevServer();
  cleanup.add(() => tenantA.stop().then(() => undefined));
  tenantB = await startDevServer();
  cleanup.add(() => tenantB.stop().then(() => undefined));
  fixture = await startTestProxy(cleanup, [
    route('a', tenantA.url, [tenantA.accessKey]),
    route('b', tenantB.url, [tenantB.accessKey]),
  ]);
});

afterAll(() => cleanup.run());

function clientFor(accessKeyId: string, secretAccessKey: string): S3Client {
  const client = new S3Client({
    endpoint: fixture.proxy.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  cleanup.add(() => client.destroy());
  return client;
}

async function errorOf(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as S3ServiceException;
  }
  throw new Error('expected the request to fail');
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('proxy with two dev servers', () => {
  it('round-trips objects for each tenant', async () => {
    for (const [tenant, bucket] of [
      [tenantA, 'alpha-bucket'],
      [tenantB, 'beta-bucket'],
    ] as const) {
      const s3 = clientFor(tenant.accessKey, tenant.secretKey);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const key of ['plain.txt', 'with space+plus.txt', 'dir//double/文件.txt']) {
        const body = `${bucket}:${key}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(await got.Body?.transformToString()).toBe(body);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.Contents?.map((object) => object.Key).sort()).toEqual(
        ['dir//double/文件.txt', 'plain.txt', 'with space+plus.txt'].sort(),
      );
    }
  });

  it('uploads a multipart object through the proxy', async () => {
    const s3 = clientFor(tenantA.accessKey, tenantA.secretKey);
    await s3.send(new CreateBucketCommand({ Bucket: 'multipart-bucket' }));
    const size = 12 * 1024 * 1024;
    const body = generatedBody(size);
    const upload = new Upload({
      client: s3,
      params: { Bucket: 'multipart-bucket', Key: 'large.bin', Body: body.stream },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();

    const got = await s3.send(new GetObjectCommand({ Bucket: 'multipart-bucket', Key: 'large.bin' }));
    const bytes = await got.Body?.transformToByteArray();
    expect(bytes?.length).toBe(size);
    expect(sha256(bytes ?? new Uint8Array())).toBe(await body.sha256);
  });

  it('lists only the buckets of each tenant', async () => {
    const s3A = clientFor(tenantA.accessKey, tenantA.secretKey);
    const s3B = clientFor(tenantB.accessKey, tenantB.secretKey);
    await s3A.send(new CreateBucketCommand({ Bucket: 'only-a' })).catch(() => undefined);
    await s3B.send(new CreateBucketCommand({ Bucket: 'only-b' })).catch(() => undefined);

    const bucketsA = (await s3A.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name) ?? [];
    const bucketsB = (await s3B.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name) ?? [];

    expect(bucketsA).toContain('only-a');
    expect(bucketsA).not.toContain('only-b');
    expect(bucketsA).not.toContain('beta-bucket');
    expect(bucketsB).toContain('only-b');
    expect(bucketsB).not.toContain('only-a');
    expect(bucketsB).not.toContain('alpha-bucket');
  });

  it('serves a presigned GET URL', async () => {
    const s3 = clientFor(tenantB.accessKey, tenantB.secretKey);
    await s3.send(new CreateBucketCommand({ Bucket: 'presigned-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'presigned-bucket', Key: 'a b.txt', Body: 'presigned body' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'presigned-bucket', Key: 'a b.txt' }), { expiresIn: 300 });

    const response = await fetch(url);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('presigned body');
  });

  it('lets the tenant server reject a wrong secret', async () => {
    const s3 = clientFor(tenantA.accessKey, 'not-the-secret-key-of-tenant-a');
    const error = await errorOf(s3.send(new ListBucketsCommand({})));

    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.name).toBe('SignatureDoesNotMatch');
  });

  it('rejects an access key no tenant has', async () => {
    const s3 = clientFor('AKIANOBODYHASTHIS', 'whatever-secret');
    const error = await errorOf(s3.send(new ListBucketsCommand({})));

    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.name).toBe('InvalidAccessKeyId');
  });
});
