import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { TenantState } from '../../src/routing/routes-file.js';
import {
  Cleanup,
  closedPort,
  closeServer,
  echoReport,
  route,
  s3ErrorCode,
  send,
  SIGNATURE,
  sigV4,
  startEchoUpstream,
  startTestProxy,
  waitFor,
} from './helpers.js';

const KEY = 'AKIATENANTA';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('proxy rejections', () => {
  const cases: Array<{ name: string; path: string; headers: string[]; status: number; code: string }> = [
    { name: 'unknown access key', path: '/b/k', headers: ['Authorization', sigV4('AKIAUNKNOWN')], status: 403, code: 'InvalidAccessKeyId' },
    { name: 'unknown SigV2 access key', path: '/b/k', headers: ['Authorization', 'AWS AKIAUNKNOWN:c2lnbmF0dXJl'], status: 403, code: 'InvalidAccessKeyId' },
    { name: 'no credentials', path: '/b/k', headers: [], status: 403, code: 'AccessDenied' },
    {
      name: 'header and presigned query',
      path: `/b/k?X-Amz-Credential=${encodeURIComponent(`${KEY}/20240102/us-east-1/s3/aws4_request`)}&X-Amz-Signature=${SIGNATURE}`,
      headers: ['Authorization', sigV4(KEY)],
      status: 400,
      code: 'InvalidArgument',
    },
    {
      name: 'two Authorization headers',
      path: '/b/k',
      headers: ['Authorization', sigV4(KEY), 'Authorization', 'AWS AKIAOTHER:c2ln'],
      status: 400,
      code: 'InvalidArgument',
    },
    { name: 'malformed SigV4 header', path: '/b/k', headers: ['Authorization', 'AWS4-HMAC-SHA256 Credential=x'], status: 400, code: 'AuthorizationHeaderMalformed' },
  ];

  it.each(cases)('rejects $name', async ({ path, headers, status, code }) => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const response = await send(proxy.url, { path, headers });

    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/xml');
    expect(s3ErrorCode(response.body)).toBe(code);
    expect(upstream.received.size).toBe(0);
  });

  it('names the unknown key in the error', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4('AKIAUNKNOWN')] });

    expect(response.body.toString()).toContain('<AWSAccessKeyId>AKIAUNKNOWN</AWSAccessKeyId>');
  });

  it('routes SigV4 and SigV2 presigned URLs', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const v4Path = `/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${KEY}/20240102/us-east-1/s3/aws4_request`)}&X-Amz-Signature=${SIGNATURE}`;
    const v2Path = `/b/k2?AWSAccessKeyId=${KEY}&Expires=1700000000&Signature=abc%3D`;

    const v4 = await send(proxy.url, { path: v4Path });
    const v2 = await send(proxy.url, { path: v2Path });

    expect(v4.status).toBe(200);
    expect(echoReport(v4).url).toBe(v4Path);
    expect(v2.status).toBe(200);
    expect(echoReport(v2).url).toBe(v2Path);
  });
});

describe('proxy anonymous requests', () => {
  it('routes by listed host and bucket subdomain', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY], { hosts: ['files.example.test'] })]);

    const exact = await send(proxy.url, { path: '/bucket/k', headers: ['Host', 'files.example.test:9000'] });
    const virtualHosted = await send(proxy.url, { path: '/k', headers: ['Host', 'bucket.FILES.example.test'] });
    const other = await send(proxy.url, { path: '/k', headers: ['Host', 'other.test'] });

    expect(exact.status).toBe(200);
    expect(virtualHosted.status).toBe(200);
    expect(echoReport(virtualHosted).url).toBe('/k');
    expect(other.status).toBe(403);
    expect(s3ErrorCode(other.body)).toBe('AccessDenied');
  });
});

describe('proxy unavailable tenants', () => {
  const states: TenantState[] = ['restarting', 'failed', 'starting', 'stopped'];
  it.each(states)('answers 503 for a %s tenant', async (state) => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY], { state })], { retryAfterSeconds: 7 });
    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(503);
    expect(s3ErrorCode(response.body)).toBe('ServiceUnavailable');
    expect(response.headers['retry-after']).toBe('7');
    expect(upstream.received.size).toBe(0);
  });

  it('answers 503 when the upstream port is closed', async () => {
    const port = await closedPort();
    const { proxy, logs } = await startTestProxy(cleanup, [route('a', `http://127.0.0.1:${port}`, [KEY])]);
    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(503);
    expect(s3ErrorCode(response.body)).toBe('ServiceUnavailable');
    expect(response.headers['retry-after']).toBe('1');
    const logged = logs.find((record) => record.msg === 'upstream request failed');
    expect(logged?.tenant).toBe('a');
    expect(logged?.code).toBe('ECONNREFUSED');
  });

  it('answers 504 when the upstream stays silent', async () => {
    // Reads and discards the request, so that it notices when the proxy closes the connection.
    const silent = net.createServer((socket) => socket.on('error', () => undefined).resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => closeServer(silent));
    const upstreamUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const { proxy } = await startTestProxy(cleanup, [route('a', upstreamUrl, [KEY])], { limits: { upstreamIdleTimeoutMs: 300 } });

    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(504);
    expect(s3ErrorCode(response.body)).toBe('GatewayTimeout');
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('sends headers only for HEAD', async () => {
    const port = await closedPort();
    const { proxy } = await startTestProxy(cleanup, [route('a', `http://127.0.0.1:${port}`, [KEY])]);
    const response = await send(proxy.url, { method: 'HEAD', path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(503);
    expect(response.body.length).toBe(0);
  });

  it('answers 503 while the routing table is missing', async () => {
    const { proxy } = await startTestProxy(cleanup, undefined);
    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(response.status).toBe(503);
    expect(s3ErrorCode(response.body)).toBe('ServiceUnavailable');
    expect(response.headers['retry-after']).toBe('1');
  });

  it('cuts the client off when the upstream resets mid-response', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);

    const outcome = await send(proxy.url, { path: '/reset/k', headers: ['Authorization', sigV4(KEY)] }).then(
      () => 'completed',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    const after = await send(proxy.url, { path: '/b/after', headers: ['Authorization', sigV4(KEY)] });

    expect(outcome).toBe('ECONNRESET');
    expect(after.status).toBe(200);
    expect(logs.some((record) => record.msg === 'upstream request failed' && record.responseStarted === true)).toBe(true);
  });
});

/**
 * Starts a raw upstream that answers the first request on each connection with keep-alive
 * and closes the connection without a response on the second, as a server does when its
 * idle timeout fires just as the proxy reuses the connection.
 */
async function startClosingUpstream(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    let requests = 0;
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        requests += 1;
        if (requests === 1) {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
        } else {
          socket.end();
          return;
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => closeServer(server));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe('proxy upstream keep-alive', () => {
  it('retries a bodiless request on a closed connection', async () => {
    const upstream = await startClosingUpstream();
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);

    const first = await send(proxy.url, { path: '/b/1', headers: ['Authorization', sigV4(KEY)] });
    const second = await send(proxy.url, { path: '/b/2', headers: ['Authorization', sigV4(KEY)] });

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.toString()).toBe('ok');
    expect(upstream.connections()).toBe(2);
  });

  it('does not retry a request with a body', async () => {
    const upstream = await startClosingUpstream();
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);

    await send(proxy.url, { path: '/b/1', headers: ['Authorization', sigV4(KEY)] });
    const put = await send(proxy.url, {
      method: 'PUT',
      path: '/b/2',
      headers: ['Authorization', sigV4(KEY), 'Content-Length', '5'],
      body: 'hello',
    });

    expect(put.status).toBe(503);
    expect(s3ErrorCode(put.body)).toBe('ServiceUnavailable');
    expect(upstream.connections()).toBe(1);
  });
});

describe('proxy client failures', () => {
  it('aborts the upstream request when the client goes away', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const bodyStarted = new Promise<void>((resolve) => {
      upstream.onFirstBytes.set('/b/abandoned', resolve);
    });

    const req = http.request({
      hostname: '127.0.0.1',
      port: proxy.port,
      method: 'PUT',
      path: '/b/abandoned',
      agent: false,
      headers: { Authorization: sigV4(KEY), 'Content-Length': 10_000_000 },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(64 * 1024, 1));
    await bodyStarted;
    req.destroy();
    await waitFor(() => upstream.aborted.includes('/b/abandoned'), 'the upstream request to be aborted');
    const after = await send(proxy.url, { path: '/b/after', headers: ['Authorization', sigV4(KEY)] });

    expect(after.status).toBe(200);
    expect(upstream.received.has('/b/abandoned')).toBe(false);
  });

  it('rejects a 64 KiB header with 431', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const response = await send(proxy.url, {
      path: '/b/k',
      headers: ['Authorization', sigV4(KEY), 'X-Amz-Meta-Large', 'v'.repeat(64 * 1024)],
    });

    expect(response.status).toBe(431);
    expect(s3ErrorCode(response.body)).toBe('RequestHeaderSectionTooLarge');
    const after = await send(proxy.url, { path: '/b/after', headers: ['Authorization', sigV4(KEY)] });
    expect(after.status).toBe(200);
  });

  it('closes a slowloris connection with 408', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], {
      limits: { headersTimeoutMs: 500, connectionsCheckingIntervalMs: 100 },
    });
    const socket = net.connect(proxy.port, '127.0.0.1');
    cleanup.add(() => {
      socket.destroy();
    });
    let reply = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.on('error', () => undefined);

    // One byte every 50 ms; 400 bytes would take 20 s, far beyond the 500 ms limit.
    const request = `GET /b/k HTTP/1.1\r\nHost: proxy.test\r\nX-Padding: ${'p'.repeat(400)}\r\n\r\n`;
    let sentBytes = 0;
    while (!closed && sentBytes < request.length) {
      socket.write(request[sentBytes] as string);
      sentBytes += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(closed).toBe(true);
    expect(sentBytes).toBeLessThan(request.length);
    expect(reply.startsWith('HTTP/1.1 408')).toBe(true);
    expect(s3ErrorCode(reply)).toBe('RequestTimeout');
  });

  it('answers malformed HTTP with S3 XML', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const socket = net.connect(proxy.port, '127.0.0.1');
    cleanup.add(() => {
      socket.destroy();
    });
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.write('GET /b/k HTTP/1.1\r\nHost: proxy.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
    });

    expect(reply.startsWith('HTTP/1.1 400')).toBe(true);
    expect(s3ErrorCode(reply)).toBe('BadRequest');
  });
});

describe('proxy logs', () => {
  it('never contain signatures or credentials', async () => {
    const port = await closedPort();
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startTestProxy(cleanup, [
      route('a', upstream.url, [KEY]),
      route('down', `http://127.0.0.1:${port}`, ['AKIADOWN']),
    ]);
    const presigned = `/b/k?X-Amz-Credential=${encodeURIComponent(`AKIADOWN/20240102/us-east-1/s3/aws4_request`)}&X-Amz-Signature=${SIGNATURE}`;

    await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4('AKIADOWN')] });
    await send(proxy.url, { path: presigned });
    await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY), 'Authorization', sigV4(KEY)] });
    await send(proxy.url, { path: '/reset/k', headers: ['Authorization', sigV4(KEY)] }).catch(() => undefined);
    const text = JSON.stringify(logs);

    expect(logs.length).toBeGreaterThan(2);
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain('X-Amz-Signature');
    expect(text).not.toContain('AWS4-HMAC-SHA256');
  });
});
