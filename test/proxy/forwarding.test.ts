import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cleanup,
  echoReport,
  generatedBody,
  generatedBodySha256,
  route,
  s3ErrorCode,
  send,
  sigV4,
  startEchoUpstream,
  startTestProxy,
  type EchoUpstream,
  type ProxyFixture,
} from './helpers.js';

const KEY = 'AKIA/TENANT/A';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function setup(): Promise<{ upstream: EchoUpstream; fixture: ProxyFixture }> {
  const upstream = await startEchoUpstream('a', cleanup);
  const fixture = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
  return { upstream, fixture };
}

/** Returns the values of `name` (case-insensitive) in a raw header list, in order. */
function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === name) {
      values.push(rawHeaders[i + 1] as string);
    }
  }
  return values;
}

describe('proxy forwarding', () => {
  const rawPaths = [
    '/bucket//key',
    '/b/a%2Bb',
    '/b/%E6%96%87',
    '/b/x%2Fy?list-type=2&prefix=a%20b',
    '/b/a+b?delimiter=%2F&encoding-type=url',
    '/b/./x/../y',
  ];
  it.each(rawPaths)('keeps raw path %s', async (path) => {
    const { fixture } = await setup();
    const response = await send(fixture.proxy.url, { path, headers: ['Authorization', sigV4(KEY)] });
    expect(response.status).toBe(200);
    expect(echoReport(response).url).toBe(path);
  });

  it('keeps Host, header names, order and repeats', async () => {
    const { fixture } = await setup();
    const sent = [
      'Host', 'bucket.s3.example.test:9000',
      'Authorization', sigV4(KEY),
      'x-amz-meta-my.key', 'dotted',
      'x-amz-meta-my_key', 'underscored',
      'X-Amz-Meta-Repeat', 'first',
      'X-Custom-Case', 'MiXeD',
      'X-Amz-Meta-Repeat', 'second',
    ];
    const response = await send(fixture.proxy.url, { path: '/b/k', headers: sent });
    const seen = echoReport(response).rawHeaders;

    expect(headerValues(seen, 'host')).toEqual(['bucket.s3.example.test:9000']);
    expect(headerValues(seen, 'authorization')).toEqual([sigV4(KEY)]);
    expect(headerValues(seen, 'x-amz-meta-my.key')).toEqual(['dotted']);
    expect(headerValues(seen, 'x-amz-meta-my_key')).toEqual(['underscored']);
    expect(headerValues(seen, 'x-amz-meta-repeat')).toEqual(['first', 'second']);
    expect(seen).toContain('X-Custom-Case');
    // Order: the first six headers arrive as sent.
    expect(seen.slice(0, sent.length)).toEqual(sent);
  });

  it('drops hop-by-hop headers', async () => {
    const { fixture } = await setup();
    const response = await send(fixture.proxy.url, {
      path: '/b/k',
      headers: [
        'Authorization', sigV4(KEY),
        'Connection', 'keep-alive, X-Per-Hop',
        'X-Per-Hop', 'dropped',
        'Keep-Alive', 'timeout=5',
        'Proxy-Connection', 'keep-alive',
        'Proxy-Authorization', 'Basic cHJveHk6c2VjcmV0',
        'TE', 'trailers',
        'Upgrade', 'h2c',
        'X-End-To-End', 'kept',
      ],
    });
    const seen = echoReport(response).rawHeaders;

    expect(headerValues(seen, 'x-per-hop')).toEqual([]);
    expect(headerValues(seen, 'keep-alive')).toEqual([]);
    expect(headerValues(seen, 'proxy-connection')).toEqual([]);
    expect(headerValues(seen, 'proxy-authorization')).toEqual([]);
    expect(headerValues(seen, 'te')).toEqual([]);
    expect(headerValues(seen, 'upgrade')).toEqual([]);
    expect(headerValues(seen, 'x-end-to-end')).toEqual(['kept']);
  });

  it('streams a 100 MiB body unchanged', async () => {
    const { fixture } = await setup();
    const size = 100 * 1024 * 1024;
    const body = generatedBody(size);
    const response = await send(fixture.proxy.url, {
      method: 'PUT',
      path: '/b/large',
      headers: ['Authorization', sigV4(KEY), 'Content-Length', String(size)],
      body: body.stream,
    });
    const report = echoReport(response);

    expect(response.status).toBe(200);
    expect(report.bodyBytes).toBe(size);
    expect(report.bodySha256).toBe(await body.sha256);
    expect(headerValues(report.rawHeaders, 'content-length')).toEqual([String(size)]);
    expect(headerValues(report.rawHeaders, 'transfer-encoding')).toEqual([]);
  });

  it('keeps a chunked body chunked', async () => {
    const { fixture } = await setup();
    const size = 3 * 1024 * 1024;
    const body = generatedBody(size, 64 * 1024);
    const response = await send(fixture.proxy.url, {
      method: 'PUT',
      path: '/b/chunked',
      headers: ['Authorization', sigV4(KEY), 'Transfer-Encoding', 'chunked'],
      body: body.stream,
    });
    const report = echoReport(response);

    expect(report.bodySha256).toBe(await body.sha256);
    expect(headerValues(report.rawHeaders, 'transfer-encoding')).toEqual(['chunked']);
    expect(headerValues(report.rawHeaders, 'content-length')).toEqual([]);
  });

  it.each(['download', 'download-chunked'])('relays a %s response unchanged', async (kind) => {
    const { fixture } = await setup();
    const size = 16 * 1024 * 1024;
    const response = await send(fixture.proxy.url, { path: `/${kind}/${size}`, headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(200);
    expect(response.body.length).toBe(size);
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(await generatedBodySha256(size));
    if (kind === 'download') {
      expect(response.headers['content-length']).toBe(String(size));
      expect(response.headers['transfer-encoding']).toBeUndefined();
    } else {
      expect(response.headers['transfer-encoding']).toBe('chunked');
      expect(response.headers['content-length']).toBeUndefined();
    }
  });

  it('gives a bodiless PUT an explicit zero length', async () => {
    const { upstream, fixture } = await setup();
    const socket = net.connect(fixture.proxy.port, '127.0.0.1');
    cleanup.add(() => {
      socket.destroy();
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`PUT /b/empty HTTP/1.1\r\nHost: proxy.test\r\nAuthorization: ${sigV4(KEY)}\r\nConnection: close\r\n\r\n`);
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on('end', () => resolve(text));
    });
    const report = upstream.received.get('/b/empty');

    expect(reply.startsWith('HTTP/1.1 200')).toBe(true);
    expect(report?.bodyBytes).toBe(0);
    expect(headerValues(report?.rawHeaders ?? [], 'content-length')).toEqual(['0']);
    expect(headerValues(report?.rawHeaders ?? [], 'transfer-encoding')).toEqual([]);
  });
});

describe('proxy X-Forwarded headers', () => {
  const signedByClient = `AWS4-HMAC-SHA256 Credential=${KEY}/20240102/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date;x-forwarded-for, Signature=abc`;
  const cases = [
    { name: 'adds both to a direct request', headers: ['Authorization', sigV4(KEY)], forwardedFor: ['127.0.0.1'], proto: ['http'] },
    { name: 'appends to an existing X-Forwarded-For', headers: ['Authorization', sigV4(KEY), 'X-Forwarded-For', '203.0.113.7'], forwardedFor: ['203.0.113.7, 127.0.0.1'], proto: ['http'] },
    {
      name: 'appends to the last of several',
      headers: ['Authorization', sigV4(KEY), 'X-Forwarded-For', '203.0.113.7', 'x-forwarded-for', '198.51.100.2'],
      forwardedFor: ['203.0.113.7', '198.51.100.2, 127.0.0.1'],
      proto: ['http'],
    },
    { name: 'keeps the proto of a proxy in front', headers: ['Authorization', sigV4(KEY), 'X-Forwarded-Proto', 'https'], forwardedFor: ['127.0.0.1'], proto: ['https'] },
    { name: 'leaves a signed X-Forwarded-For alone', headers: ['Authorization', signedByClient, 'X-Forwarded-For', '203.0.113.7'], forwardedFor: ['203.0.113.7'], proto: ['http'] },
  ];

  it.each(cases)('$name', async ({ headers, forwardedFor, proto }) => {
    const { fixture } = await setup();
    const report = echoReport(await send(fixture.proxy.url, { path: '/b/forwarded', headers }));

    expect(headerValues(report.rawHeaders, 'x-forwarded-for')).toEqual(forwardedFor);
    expect(headerValues(report.rawHeaders, 'x-forwarded-proto')).toEqual(proto);
  });

  it('is absent from what real clients sign', async () => {
    const { upstream, fixture } = await setup();
    const port = Number(new URL(fixture.proxy.url).port);
    const sdk = new S3Client({ endpoint: fixture.proxy.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: 'secret-sdk' }, maxAttempts: 1 });
    cleanup.add(() => sdk.destroy());
    const minio = new MinioClient({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: KEY, secretKey: 'secret-minio', region: 'us-east-1' });

    await sdk.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'signed', Body: 'x' }));
    await minio.bucketExists('minio');

    const authorizations = [...upstream.received.values()].flatMap((report) => headerValues(report.rawHeaders, 'authorization'));
    expect(authorizations).toHaveLength(2);
    for (const authorization of authorizations) {
      const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '';
      expect(signed).toContain('host');
      expect(signed).not.toContain('x-forwarded');
    }
  });
});

describe('proxy aws-chunked framing', () => {
  const signedBody = '10000;chunk-signature=' + 'a'.repeat(64) + '\r\n' + 'x'.repeat(0x10000) + '\r\n0;chunk-signature=' + 'b'.repeat(64) + '\r\n\r\n';
  const trailerBody = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n';
  const cases = [
    { name: 'signed chunks with Content-Length', payload: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', body: signedBody, decoded: 0x10000, chunked: false },
    { name: 'signed chunks over chunked framing', payload: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', body: signedBody, decoded: 0x10000, chunked: true },
    { name: 'unsigned trailer with Content-Length', payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', body: trailerBody, decoded: 5, chunked: false },
    { name: 'unsigned trailer over chunked framing', payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', body: trailerBody, decoded: 5, chunked: true },
  ];

  it.each(cases)('forwards $name untouched', async ({ payload, body, decoded, chunked }) => {
    const { fixture } = await setup();
    const framing = chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(Buffer.byteLength(body))];
    const headers = ['Authorization', sigV4(KEY), 'Content-Encoding', 'aws-chunked', 'X-Amz-Content-Sha256', payload, 'X-Amz-Decoded-Content-Length', String(decoded), 'X-Amz-Trailer', 'x-amz-checksum-crc32', ...framing];

    const response = await send(fixture.proxy.url, { method: 'PUT', path: '/b/aws-chunked', headers, body });
    const report = echoReport(response);

    expect(report.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(headerValues(report.rawHeaders, 'content-encoding')).toEqual(['aws-chunked']);
    expect(headerValues(report.rawHeaders, 'x-amz-content-sha256')).toEqual([payload]);
    expect(headerValues(report.rawHeaders, 'x-amz-decoded-content-length')).toEqual([String(decoded)]);
    expect(headerValues(report.rawHeaders, 'transfer-encoding')).toEqual(chunked ? ['chunked'] : []);
    expect(headerValues(report.rawHeaders, 'content-length')).toEqual(chunked ? [] : [String(Buffer.byteLength(body))]);
  });
});

describe('proxy Expect: 100-continue', () => {
  /** Sends a PUT with Expect and writes the body only when the proxy sends 100 Continue. */
  function putWithExpect(
    baseUrl: string,
    path: string,
    body: Buffer,
    sendBodyAtOnce = false,
  ): Promise<{ status: number; body: string; continued: boolean }> {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      let continued = false;
      const req = http.request({
        hostname: url.hostname,
        port: url.port,
        method: 'PUT',
        path,
        agent: false,
        headers: { Authorization: sigV4(KEY), 'Content-Length': body.length, Expect: '100-continue' },
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          if (!continued) {
            req.destroy();
          }
          resolve({ status: res.statusCode ?? 0, body: text, continued });
        });
      });
      req.on('error', reject);
      if (sendBodyAtOnce) {
        // Like curl after its wait for 100 Continue expires.
        req.write(body);
      } else {
        req.flushHeaders();
      }
    });
  }

  it('sends the body after the upstream continues', async () => {
    const { fixture } = await setup();
    const body = Buffer.from('hello after continue');
    const result = await putWithExpect(fixture.proxy.url, '/b/continue', body);

    expect(result.status).toBe(200);
    expect(result.continued).toBe(true);
    expect(JSON.parse(result.body).bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('relays an early rejection without the body', async () => {
    const { upstream, fixture } = await setup();
    const result = await putWithExpect(fixture.proxy.url, '/reject/object', Buffer.alloc(1024 * 1024, 1));

    expect(result.status).toBe(403);
    expect(s3ErrorCode(result.body)).toBe('AccessDenied');
    expect(result.continued).toBe(false);
    expect(upstream.rejectedBeforeBody).toHaveLength(1);
    expect(await upstream.rejectedBeforeBody[0]).toBe(0);
  });

  it('holds an early body until the upstream continues', async () => {
    const { upstream, fixture } = await setup();
    const result = await putWithExpect(fixture.proxy.url, '/reject/eager', Buffer.alloc(1024 * 1024, 1), true);

    expect(result.status).toBe(403);
    expect(upstream.rejectedBeforeBody).toHaveLength(1);
    expect(await upstream.rejectedBeforeBody[0]).toBe(0);
  });
});
