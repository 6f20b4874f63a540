import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import { startProxy } from '../../src/proxy/server.js';
import { writeRoutesFile } from '../../src/routing/routes-file.js';
import { Cleanup, closeServer, echoReport, route, send, sigV4, startEchoUpstream, startTestProxy } from './helpers.js';

const KEY = 'AKIATENANTA';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function routesFileIn(upstreamUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-test-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.json');
  await writeRoutesFile(file, [route('a', upstreamUrl, [KEY])]);
  return file;
}

async function rejectionOf(promise: Promise<unknown>): Promise<TenantsError> {
  try {
    await promise;
  } catch (error) {
    return error as TenantsError;
  }
  throw new Error('expected startProxy to reject');
}

/** Starts a chunked PUT that stays open until `finish` is called, once its first bytes reached the upstream. */
async function openUpload(port: number, path: string, upstream: Awaited<ReturnType<typeof startEchoUpstream>>) {
  const bodyStarted = new Promise<void>((resolve) => upstream.onFirstBytes.set(path, resolve));
  const req = http.request({
    hostname: '127.0.0.1',
    port,
    method: 'PUT',
    path,
    agent: false,
    headers: { Authorization: sigV4(KEY), 'Transfer-Encoding': 'chunked' },
  });
  const outcome = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
  req.write('first part, ');
  await bodyStarted;
  return { outcome, finish: () => req.end('last part') };
}

describe('startProxy listening', () => {
  it('rejects an address in use with advice', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => closeServer(blocker));
    const port = (blocker.address() as AddressInfo).port;
    const routesFile = await routesFileIn('http://127.0.0.1:1');

    const error = await rejectionOf(startProxy({ routesFile, listen: `127.0.0.1:${port}` }));

    expect(error).toBeInstanceOf(TenantsError);
    expect(error.code).toBe('PROXY_LISTEN_FAILED');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('already in use');
  });

  const invalidAddresses = ['localhost', '127.0.0.1', '127.0.0.1:99999', '[zz]:9000', ':9000', '::1:9000'];
  it.each(invalidAddresses)('rejects listen address %j', async (listen) => {
    const routesFile = await routesFileIn('http://127.0.0.1:1');
    const error = await rejectionOf(startProxy({ routesFile, listen }));

    expect(error.code).toBe('PROXY_LISTEN_INVALID');
    expect(error.message).toContain(`"${listen}"`);
  });

  it('reports the bound port and URL', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);

    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.address).toBe(`127.0.0.1:${proxy.port}`);
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
  });

  it('listens on IPv6 loopback', async (context) => {
    const probe = net.createServer();
    const ipv6Available = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => resolve(true));
    });
    if (ipv6Available) {
      await closeServer(probe);
    } else {
      context.skip();
    }
    const upstream = await startEchoUpstream('a', cleanup);
    const routesFile = await routesFileIn(upstream.url);
    const proxy = await startProxy({ routesFile, listen: '[::1]:0' });
    cleanup.add(() => proxy.destroy());

    const response = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    expect(proxy.url).toBe(`http://[::1]:${proxy.port}`);
    expect(response.status).toBe(200);
  });
});

describe('proxy shutdown', () => {
  it('lets a request in flight finish on close()', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const upload = await openUpload(proxy.port, '/b/in-flight', upstream);

    let closed = false;
    const closing = proxy.close().then(() => {
      closed = true;
    });
    const newConnection = await send(proxy.url, { path: '/b/new', headers: ['Authorization', sigV4(KEY)] }).then(
      () => 'accepted',
      (error: NodeJS.ErrnoException) => error.code,
    );
    const closedBeforeFinish = closed;
    upload.finish();
    const outcome = await upload.outcome;
    await closing;

    expect(newConnection).toBe('ECONNREFUSED');
    expect(closedBeforeFinish).toBe(false);
    expect(outcome).toMatchObject({ status: 200 });
    const report = 'body' in outcome ? JSON.parse(outcome.body) : undefined;
    expect(report?.bodyBytes).toBe('first part, last part'.length);
  });

  it('drops a request in flight on destroy()', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const upload = await openUpload(proxy.port, '/b/dropped', upstream);

    proxy.destroy();
    const outcome = await upload.outcome;

    expect('error' in outcome).toBe(true);
    expect(upstream.received.has('/b/dropped')).toBe(false);
  });

  it('closes idle keep-alive connections on close()', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])]);
    const agent = new http.Agent({ keepAlive: true });
    cleanup.add(() => agent.destroy());
    const response = await new Promise<string>((resolve, reject) => {
      http
        .get({ hostname: '127.0.0.1', port: proxy.port, path: '/b/k', agent, headers: { Authorization: sigV4(KEY) } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });

    await proxy.close();

    expect(echoReport({ status: 200, headers: {}, rawHeaders: [], body: Buffer.from(response) }).url).toBe('/b/k');
  });
});
