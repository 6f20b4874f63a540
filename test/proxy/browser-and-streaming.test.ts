import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from '../devserver/helpers.js';
import { send as sendWire, signStreaming } from '../devserver/wire.js';
import { Cleanup, route, s3ErrorCode, send, startTestProxy, type ProxyFixture } from './helpers.js';

/**
 * Requests that browsers and S3 tools send, through the proxy to two development servers:
 * POST uploads, CORS preflight, anonymous requests routed by Host, and aws-chunked bodies.
 */

const TENANT_A_HOST = 'files-a.s3.test';
const cleanup = new Cleanup();
let tenantA: DevServerHandle;
let tenantB: DevServerHandle;
let fixture: ProxyFixture;
let clientA: S3Client;
let clientB: S3Client;

beforeAll(async () => {
  tenantA = await startDevServer();
  cleanup.add(() => tenantA.stop().then(() => undefined));
  tenantB = await startDevServer();
  cleanup.add(() => tenantB.stop().then(() => undefined));
  fixture = await startTestProxy(cleanup, [
    route('a', tenantA.url, [tenantA.accessKey], { hosts: [TENANT_A_HOST] }),
    route('b', tenantB.url, [tenantB.accessKey]),
  ]);
  clientA = clientFor(tenantA);
  clientB = clientFor(tenantB);
  await clientA.send(new CreateBucketCommand({ Bucket: 'site-a' }));
  await clientB.send(new CreateBucketCommand({ Bucket: 'site-b' }));
});

afterAll(() => cleanup.run());

function clientFor(tenant: DevServerHandle): S3Client {
  const client = new S3Client({
    endpoint: fixture.proxy.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
    maxAttempts: 1,
  });
  cleanup.add(() => client.destroy());
  return client;
}

async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('proxy browser requests', () => {
  it('uploads a presigned POST form', async () => {
    const post = await createPresignedPost(clientB, { Bucket: 'site-b', Key: 'posted/${filename}', Expires: 300 });
    const content = randomBytes(200_000);
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) {
      form.append(name, value);
    }
    form.append('file', new Blob([content]), 'photo.bin');

    const response = await fetch(post.url, { method: 'POST', body: form });

    expect(post.url.startsWith(fixture.proxy.url)).toBe(true);
    expect(response.status).toBe(204);
    expect(sha256(await objectBytes(clientB, 'site-b', 'posted/photo.bin'))).toBe(sha256(content));
  });

  it('routes a preflight by its presigned query', async () => {
    const url = await getSignedUrl(clientB, new PutObjectCommand({ Bucket: 'site-b', Key: 'from-browser.txt' }), { expiresIn: 300 });
    const path = url.slice(fixture.proxy.url.length);
    const origin = 'https://app.example.test';

    const preflight = await send(fixture.proxy.url, {
      method: 'OPTIONS',
      path,
      headers: ['Host', new URL(url).host, 'Origin', origin, 'Access-Control-Request-Method', 'PUT', 'Access-Control-Request-Headers', 'content-type'],
    });
    const upload = await fetch(url, { method: 'PUT', body: 'sent by a page', headers: { Origin: origin, 'Content-Type': 'text/plain' } });

    expect(preflight.status).toBe(200);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toContain('PUT');
    expect(upload.status).toBe(200);
    expect(upload.headers.get('access-control-allow-origin')).toBe(origin);
    expect((await objectBytes(clientB, 'site-b', 'from-browser.txt')).toString()).toBe('sent by a page');
  });

  it('routes a preflight without credentials by Host', async () => {
    const headers = ['Origin', 'https://app.example.test', 'Access-Control-Request-Method', 'PUT'];

    const byHost = await send(fixture.proxy.url, { method: 'OPTIONS', path: '/site-a/k', headers: ['Host', TENANT_A_HOST, ...headers] });
    const unknownHost = await send(fixture.proxy.url, { method: 'OPTIONS', path: '/site-a/k', headers: ['Host', 'elsewhere.test', ...headers] });

    expect(byHost.status).toBe(200);
    expect(byHost.headers['access-control-allow-origin']).toBe('https://app.example.test');
    expect(unknownHost.status).toBe(403);
    expect(s3ErrorCode(unknownHost.body)).toBe('AccessDenied');
  });

  it('serves anonymous reads by Host', async () => {
    await clientA.send(new PutObjectCommand({ Bucket: 'site-a', Key: 'index.html', Body: '<h1>public</h1>' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::site-a/*'] }],
    };
    await clientA.send(new PutBucketPolicyCommand({ Bucket: 'site-a', Policy: JSON.stringify(policy) }));

    const byHost = await send(fixture.proxy.url, { path: '/site-a/index.html', headers: ['Host', `${TENANT_A_HOST}:9000`] });
    const unknownHost = await send(fixture.proxy.url, { path: '/site-a/index.html', headers: ['Host', 'elsewhere.test'] });

    expect(byHost.status).toBe(200);
    expect(byHost.body.toString()).toBe('<h1>public</h1>');
    expect(unknownHost.status).toBe(403);
    expect(s3ErrorCode(unknownHost.body)).toBe('AccessDenied');
  });
});

describe('proxy aws-chunked uploads', () => {
  it('passes a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body', async () => {
    const chunks = ['a'.repeat(70_000), 'b'.repeat(65_536), 'tail'];
    const credentials = { accessKey: tenantB.accessKey, secretKey: tenantB.secretKey };
    const wire = await signStreaming(credentials, { port: fixture.proxy.port, path: '/site-b/signed-chunks', chunks });

    const response = await sendWire(fixture.proxy.port, wire);

    // The server checks every chunk signature, so a changed byte would fail the upload.
    expect(response.status).toBe(200);
    expect((await objectBytes(clientB, 'site-b', 'signed-chunks')).toString()).toBe(chunks.join(''));
  });

  it('passes a STREAMING-UNSIGNED-PAYLOAD-TRAILER body', async () => {
    const body = randomBytes(300_000);

    // A stream body makes the AWS SDK send aws-chunked with an x-amz-checksum-crc32 trailer.
    await clientA.send(
      new PutObjectCommand({ Bucket: 'site-a', Key: 'trailer.bin', Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]), ContentLength: body.length }),
    );

    expect(sha256(await objectBytes(clientA, 'site-a', 'trailer.bin'))).toBe(sha256(body));
  });
});
