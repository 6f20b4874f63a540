import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import { startProxyCluster } from '../../src/proxy/proxy-cluster.js';
import { decodeWorkerSettings, encodeWorkerSettings } from '../../src/proxy/proxy-worker-protocol.js';
import { startProxy, type ProxyHandle } from '../../src/proxy/server.js';
import { writeRoutesFile, type RouteEntry } from '../../src/routing/routes-file.js';
import { startDevServer } from '../devserver/helpers.js';
import { childPids, connectionsTo, isRunning } from '../helpers/processes.js';
import { capturingLogger, Cleanup, closeServer, echoReport, route, send, sigV4, startEchoUpstream, waitFor, type LogRecord } from './helpers.js';

const KEY = 'AKIACLUSTERTEST';
const WORKER_SCRIPT = 'proxy-worker.js';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface ClusterFixture {
  proxy: ProxyHandle;
  logs: LogRecord[];
  /** The workers' own log file. */
  logFile: string;
  routesFile: string;
}

async function startCluster(routes: RouteEntry[], listen = '127.0.0.1:0'): Promise<ClusterFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-cluster-test-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  const routesFile = join(dir, 'routes.json');
  await writeRoutesFile(routesFile, routes);
  const logFile = join(dir, 'proxy.log');
  const captured = capturingLogger();
  const proxy = await startProxyCluster({ routesFile, listen, workers: 2, logger: captured.logger, logFile });
  cleanup.add(async () => {
    proxy.destroy();
    await waitFor(() => workerPids().length === 0, 'the proxy workers to exit');
  });
  return { proxy, logs: captured.records, logFile, routesFile };
}

function workerPids(): number[] {
  return childPids(process.pid, WORKER_SCRIPT);
}

async function workerLog(file: string): Promise<LogRecord[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

/** Sends `count` GETs with KEY, each on a fresh connection, and returns their statuses. */
async function getMany(url: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) {
    statuses.push((await send(url, { path: `/bucket/object-${i}`, headers: ['Authorization', sigV4(KEY)] })).status);
  }
  return statuses;
}

async function rejectionOf(promise: Promise<unknown>): Promise<TenantsError> {
  try {
    await promise;
  } catch (error) {
    return error as TenantsError;
  }
  throw new Error('expected the start to reject');
}

describe('proxy worker settings', () => {
  it('round-trips through the environment', () => {
    const settings = { routesFile: '/state/routes.json', listen: '127.0.0.1:9000', logFile: '/state/logs/supervisor.log', limits: { maxLearnedKeys: 5 } };

    expect(decodeWorkerSettings(encodeWorkerSettings(settings))).toEqual(settings);
  });

  it.each([
    ['missing', undefined, 'is not set'],
    ['empty', '', 'is not set'],
    ['a list', '[]', 'must be a JSON object'],
    ['without listen', '{"routesFile":"/r.json"}', 'must be a JSON object with string fields routesFile and listen'],
  ])('rejects %s settings', (_, text, message) => {
    expect(() => decodeWorkerSettings(text)).toThrow(message);
  });
});

describe('proxy cluster', () => {
  it('serves requests from both workers', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startCluster([route('a', upstream.url, [KEY])]);

    const statuses = await getMany(proxy.url, 20);

    expect(statuses).toEqual(Array(20).fill(200));
    const pids = workerPids();
    expect(pids).toHaveLength(2);
    // Each worker keeps its upstream connections alive for freeSocketTimeoutMs (4 s), so a
    // worker that forwarded a request still holds one.
    for (const pid of pids) {
      expect(connectionsTo(pid, upstream.port), `connections of worker ${pid}`).toBeGreaterThan(0);
    }
    const listening = logs.find((record) => record.msg === 'proxy cluster listening');
    expect(listening?.address).toBe(proxy.address);
    expect(listening?.workers).toBe(2);
  });

  it('replaces a killed worker and keeps serving', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startCluster([route('a', upstream.url, [KEY])]);
    const [killed, survivor] = workerPids() as [number, number];

    process.kill(killed, 'SIGKILL');
    await waitFor(() => logs.some((record) => record.msg === 'proxy worker restarted'), 'the replacement worker');
    const statuses = await getMany(proxy.url, 20);

    expect(statuses).toEqual(Array(20).fill(200));
    const pids = workerPids();
    expect(pids).toHaveLength(2);
    expect(pids).toContain(survivor);
    expect(pids).not.toContain(killed);
    const exited = logs.find((record) => record.msg === 'proxy worker exited; restarting');
    expect(exited?.pid).toBe(killed);
    expect(exited?.signal).toBe('SIGKILL');
    expect(exited?.delayMs).toBe(250);
    const restarted = logs.find((record) => record.msg === 'proxy worker restarted');
    expect(restarted?.address).toBe(proxy.address);
  });

  it('finishes requests in flight on close and leaves no worker', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startCluster([route('a', upstream.url, [KEY])]);
    const pids = workerPids();
    const bodyStarted = new Promise<void>((resolve) => upstream.onFirstBytes.set('/bucket/upload', resolve));
    const req = http.request({ hostname: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/bucket/upload', agent: false, headers: { Authorization: sigV4(KEY), 'Transfer-Encoding': 'chunked' } });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });
    req.write('first part, ');
    await bodyStarted;

    const closed = proxy.close();
    req.end('last part');
    const { status, body } = await response;
    await closed;

    expect(status).toBe(200);
    expect(JSON.parse(body).bodyBytes).toBe('first part, last part'.length);
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      expect(isRunning(pid), `worker ${pid}`).toBe(false);
    }
    expect(workerPids()).toEqual([]);
  });

  it('reloads the routing table in every worker', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const second = await startEchoUpstream('second', cleanup);
    const { proxy, routesFile } = await startCluster([route('a', first.url, [KEY])]);

    await writeRoutesFile(routesFile, [route('a', second.url, [KEY])]);
    await proxy.reload();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => send(proxy.url, { path: `/b/${i}`, headers: ['Authorization', sigV4(KEY)] })));

    expect(responses.map((response) => echoReport(response).upstream)).toEqual(Array(10).fill('second'));
  });

  it('rejects a port in use with PROXY_LISTEN_FAILED', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => closeServer(blocker));
    const listen = `127.0.0.1:${(blocker.address() as AddressInfo).port}`;
    const dir = await mkdtemp(join(tmpdir(), 'proxy-cluster-test-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const routesFile = join(dir, 'routes.json');
    await writeRoutesFile(routesFile, [route('a', 'http://127.0.0.1:9', [KEY])]);

    const single = await rejectionOf(startProxy({ routesFile, listen }));
    // The workers log their failure to this file rather than to the test's output.
    const clustered = await rejectionOf(startProxyCluster({ routesFile, listen, workers: 2, logFile: join(dir, 'proxy.log') }));

    expect(clustered).toBeInstanceOf(TenantsError);
    expect(clustered.code).toBe('PROXY_LISTEN_FAILED');
    expect(clustered.message).toBe(single.message);
    expect(clustered.message).toContain('already in use');
    expect(workerPids()).toEqual([]);
  });

  it('rejects a worker count of 0', async () => {
    const error = await rejectionOf(startProxyCluster({ routesFile: '/nonexistent/routes.json', listen: '127.0.0.1:0', workers: 0 }));

    expect(error.code).toBe('PROXY_WORKERS_INVALID');
    expect(error.message).toBe('invalid proxy worker count 0: use an integer from 1 to 64');
  });
});

describe('proxy cluster with STS', () => {
  it('routes a learned key on every worker, including a replacement', async () => {
    const tenant = await startDevServer();
    cleanup.add(() => tenant.stop().then(() => undefined));
    const { proxy, logs, logFile } = await startCluster([route('a', tenant.url, [tenant.accessKey])]);
    // Keep-alive off, so that every request opens a new connection and either worker may take it.
    const requestHandler = new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false }) });
    const sts = new STSClient({
      endpoint: proxy.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
      requestHandler,
    });
    cleanup.add(() => sts.destroy());
    const issued = (await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'cluster-test', DurationSeconds: 900 }))).Credentials!;
    const s3 = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: issued.AccessKeyId!, secretAccessKey: issued.SecretAccessKey!, sessionToken: issued.SessionToken! },
      requestHandler,
    });
    cleanup.add(() => s3.destroy());
    const listAll = async (count: number): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < count; i += 1) {
        statuses.push((await s3.send(new ListBucketsCommand({}))).$metadata.httpStatusCode ?? 0);
      }
      return statuses;
    };

    const beforeRestart = await listAll(20);
    const pidsBefore = workerPids();
    for (const pid of pidsBefore) {
      expect(connectionsTo(pid, tenant.port), `connections of worker ${pid}`).toBeGreaterThan(0);
    }
    process.kill(pidsBefore[0] as number, 'SIGKILL');
    await waitFor(() => logs.some((record) => record.msg === 'proxy worker restarted'), 'the replacement worker');
    process.kill(pidsBefore[1] as number, 'SIGKILL');
    await waitFor(() => logs.filter((record) => record.msg === 'proxy worker restarted').length === 2, 'the second replacement worker');
    const afterRestart = await listAll(20);

    expect(beforeRestart).toEqual(Array(20).fill(200));
    // Both workers now serving were started after the key was learned.
    expect(workerPids().filter((pid) => pidsBefore.includes(pid))).toEqual([]);
    expect(afterRestart).toEqual(Array(20).fill(200));
    const workerLines = await workerLog(logFile);
    const learned = workerLines.filter((record) => record.msg === 'temporary access key learned');
    expect(learned).toHaveLength(1);
    expect(learned[0]?.accessKey).toBe(issued.AccessKeyId);
    expect(typeof learned[0]?.worker).toBe('number');
    const text = await readFile(logFile, 'utf8');
    expect(text).not.toContain(issued.SecretAccessKey);
    expect(text).not.toContain(issued.SessionToken);
  });
});
