import { createHash } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cleanup,
  echoReport,
  generatedBody,
  route,
  s3ErrorCode,
  send,
  startEchoUpstream,
  startTestProxy,
} from './helpers.js';

const KEY_A = 'AKIAFORMTENANTA';
const KEY_B = 'AKIAFORMTENANTB';
const BOUNDARY = '----formBoundaryProxyTest';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function fields(pairs: Array<[string, string]>): Buffer {
  return Buffer.from(
    pairs.map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`).join(''),
  );
}

const fileHeader = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
const closing = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
const credential = (key: string): string => `${key}/20240102/us-east-1/s3/aws4_request`;
const formHeaders = (length?: number): string[] => [
  'Content-Type',
  `multipart/form-data; boundary=${BOUNDARY}`,
  ...(length === undefined ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(length)]),
];

async function twoTenants(extra: { hostsA?: string[] } = {}) {
  const upstreamA = await startEchoUpstream('a', cleanup);
  const upstreamB = await startEchoUpstream('b', cleanup);
  const fixture = await startTestProxy(cleanup, [
    route('a', upstreamA.url, [KEY_A], { hosts: extra.hostsA ?? [] }),
    route('b', upstreamB.url, [KEY_B]),
  ]);
  return { upstreamA, upstreamB, ...fixture };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('proxy browser POST uploads', () => {
  it.each([
    ['x-amz-credential', credential(KEY_B)],
    ['X-Amz-Credential', credential(KEY_B)],
    ['AWSAccessKeyId', KEY_B],
  ])('routes a form by its %s field', async (name, value) => {
    const { proxy } = await twoTenants();
    const body = Buffer.concat([fields([['key', 'photos/${filename}'], ['policy', 'eyJjb25kaXRpb25zIjpbXX0='], [name, value]]), fileHeader, Buffer.from('hello'), closing]);

    const response = await send(proxy.url, { method: 'POST', path: '/photos', headers: formHeaders(body.length), body });

    expect(response.status).toBe(200);
    const report = echoReport(response);
    expect(report.upstream).toBe('b');
    expect(report.bodyBytes).toBe(body.length);
    expect(report.bodySha256).toBe(sha256(body));
  });

  it('forwards a large chunked form byte for byte', async () => {
    const { proxy } = await twoTenants();
    const file = generatedBody(32 * 1024 * 1024, 7919);
    const head = Buffer.concat([fields([['x-amz-credential', credential(KEY_A)]]), fileHeader]);
    const hash = createHash('sha256').update(head);
    const stream = Readable.from(
      (async function* () {
        yield head;
        for await (const chunk of file.stream) {
          hash.update(chunk as Buffer);
          yield chunk as Buffer;
        }
        hash.update(closing);
        yield closing;
      })(),
    );

    const response = await send(proxy.url, { method: 'POST', path: '/photos', headers: formHeaders(), body: stream });

    expect(response.status).toBe(200);
    const report = echoReport(response);
    expect(report.upstream).toBe('a');
    expect(report.bodySha256).toBe(hash.digest('hex'));
    expect(report.rawHeaders.map((value) => value.toLowerCase())).toContain('transfer-encoding');
    expect(report.rawHeaders.map((value) => value.toLowerCase())).not.toContain('content-length');
  });

  it('keeps Content-Length framing', async () => {
    const { proxy } = await twoTenants();
    const body = Buffer.concat([fields([['x-amz-credential', credential(KEY_A)]]), fileHeader, Buffer.alloc(300_000, 'z'), closing]);

    const response = await send(proxy.url, { method: 'POST', path: '/', headers: ['Host', 'photos.s3.test', ...formHeaders(body.length)], body });

    const report = echoReport(response);
    const contentLength = report.rawHeaders.findIndex((value) => value.toLowerCase() === 'content-length');
    expect(report.rawHeaders[contentLength + 1]).toBe(String(body.length));
    expect(report.rawHeaders.map((value) => value.toLowerCase())).not.toContain('transfer-encoding');
    expect(report.bodySha256).toBe(sha256(body));
  });

  it('answers Expect: 100-continue itself', async () => {
    const { proxy } = await twoTenants();
    const body = Buffer.concat([fields([['x-amz-credential', credential(KEY_B)]]), fileHeader, Buffer.from('data'), closing]);
    const socket = net.connect(proxy.port, '127.0.0.1');
    cleanup.add(() => {
      socket.destroy();
    });
    let reply = '';
    const continued = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString();
        if (reply.startsWith('HTTP/1.1 100')) {
          resolve();
        }
      });
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));

    socket.write(
      `POST /photos HTTP/1.1\r\nHost: proxy.test\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    );
    await continued;
    socket.write(body);
    await closed;

    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
    const report = JSON.parse(reply.slice(reply.indexOf('{'))) as { upstream: string; bodySha256: string };
    expect(report.upstream).toBe('b');
    expect(report.bodySha256).toBe(sha256(body));
  });

  it('routes a form without credential by Host', async () => {
    const { proxy } = await twoTenants({ hostsA: ['uploads.example.test'] });
    const body = Buffer.concat([fields([['key', 'k']]), fileHeader, Buffer.from('anonymous'), closing]);

    const byHost = await send(proxy.url, { method: 'POST', path: '/', headers: ['Host', 'photos.uploads.example.test', ...formHeaders(body.length)], body });
    const denied = await send(proxy.url, { method: 'POST', path: '/photos', headers: formHeaders(body.length), body });

    expect(echoReport(byHost).upstream).toBe('a');
    expect(denied.status).toBe(403);
    expect(s3ErrorCode(denied.body)).toBe('AccessDenied');
    expect(denied.body.toString()).toContain('x-amz-credential');
  });

  it('treats a credential after the file as absent', async () => {
    const { proxy, upstreamA, upstreamB } = await twoTenants();
    const body = Buffer.concat([fileHeader, Buffer.from('data'), Buffer.from('\r\n'), fields([['x-amz-credential', credential(KEY_A)]]), Buffer.from(`--${BOUNDARY}--\r\n`)]);

    const response = await send(proxy.url, { method: 'POST', path: '/photos', headers: formHeaders(body.length), body });

    expect(response.status).toBe(403);
    expect(s3ErrorCode(response.body)).toBe('AccessDenied');
    expect(upstreamA.received.size + upstreamB.received.size).toBe(0);
  });

  const rejections: Array<{ name: string; contentType: string; body: Buffer; status: number; code: string }> = [
    {
      name: 'fields beyond the bound',
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
      body: Buffer.concat([fields([['policy', 'p'.repeat(100 * 1024)], ['x-amz-credential', credential(KEY_A)]]), fileHeader, Buffer.alloc(4 * 1024 * 1024), closing]),
      status: 400,
      code: 'MaxPostPreDataLengthExceeded',
    },
    { name: 'a missing boundary', contentType: 'multipart/form-data', body: fields([['x-amz-credential', credential(KEY_A)]]), status: 400, code: 'MalformedPOSTRequest' },
    { name: 'a truncated form', contentType: `multipart/form-data; boundary=${BOUNDARY}`, body: fields([['key', 'k']]).subarray(0, 50), status: 400, code: 'MalformedPOSTRequest' },
    {
      name: 'an unknown access key',
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
      body: Buffer.concat([fields([['x-amz-credential', credential('AKIANOBODY')]]), fileHeader, closing]),
      status: 403,
      code: 'InvalidAccessKeyId',
    },
    {
      name: 'an empty credential',
      contentType: `multipart/form-data; boundary=${BOUNDARY}`,
      body: Buffer.concat([fields([['AWSAccessKeyId', '']]), fileHeader, closing]),
      status: 400,
      code: 'InvalidArgument',
    },
  ];

  it.each(rejections)('rejects $name', async ({ contentType, body, status, code }) => {
    const { proxy, upstreamA, upstreamB } = await twoTenants();

    const response = await send(proxy.url, { method: 'POST', path: '/photos', headers: ['Content-Type', contentType, 'Content-Length', String(body.length)], body }).catch(
      (error: Error) => error,
    );

    // The proxy may close the connection while a large body is still being sent, so a reset is accepted there.
    if (response instanceof Error) {
      expect(code).toBe('MaxPostPreDataLengthExceeded');
      expect((response as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|EPIPE/);
    } else {
      expect(response.status).toBe(status);
      expect(s3ErrorCode(response.body)).toBe(code);
      expect(response.headers.connection).toBe('close');
    }
    expect(upstreamA.received.size + upstreamB.received.size).toBe(0);
  });

  it('leaves signed POST requests to the header', async () => {
    const { proxy } = await twoTenants();
    const body = Buffer.concat([fields([['x-amz-credential', credential(KEY_A)]]), fileHeader, closing]);
    const authorization = `AWS4-HMAC-SHA256 Credential=${credential(KEY_B)}, SignedHeaders=host, Signature=abc`;

    const response = await send(proxy.url, { method: 'POST', path: '/photos', headers: ['Authorization', authorization, ...formHeaders(body.length)], body });

    expect(echoReport(response).upstream).toBe('b');
  });
});
