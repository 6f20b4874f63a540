// 64 MiB PUTs and GETs through every target (direct, tenants proxy, nginx, HAProxy) to the
// fast backends (nginx sending a file for GET, a node:http sink for PUT) and to the
// development server, one transfer at a time. Then the proxy's peak RSS while 1 GiB
// streams through it in each direction.
//
//   npm run bench:large     (BENCH_ROUNDS: transfers per target and direction, default 7)
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { startDevServer, startSinkBackend, startStaticBackend, writeLargeFile } from './lib/backends.mjs';
import { fixed, machineLine, printTable, rssMiB, verdict } from './lib/report.mjs';
import { runBenchmark, stopProcess } from './lib/processes.mjs';
import { presignUrl, s3Client } from './lib/s3.mjs';
import { sigV4ShapedHeaders } from './lib/signed-request.mjs';
import { directTarget, routesTo, startHaproxyTarget, startNginxTarget, startTenantsProxy } from './lib/targets.mjs';
import { transfer } from './lib/transfer.mjs';

const MiB = 1024 * 1024;
const OBJECT_BYTES = 64 * MiB;
const STREAM_BYTES = 1024 * MiB;
// Single transfers vary by a factor of two on a shared machine, so the median needs several.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ACCESS_KEY = 'BENCHLARGEKEY0000001';
const RSS_SAMPLE_INTERVAL_MS = 50;

await runBenchmark(async () => {
  console.log(machineLine());
  const staticBackend = await startStaticBackend();
  await writeLargeFile(staticBackend, 'object-64m.bin', OBJECT_BYTES);
  await writeLargeFile(staticBackend, 'stream-1g.bin', STREAM_BYTES);
  const sink = await startSinkBackend();
  const devServer = await startDevServer();
  await s3Client(devServer.port, devServer.credentials).send(new CreateBucketCommand({ Bucket: 'bench' }));
  const devKey = devServer.credentials.accessKeyId;

  const scenarios = [
    { backend: 'nginx file', op: 'GET', targets: await startTargets(staticBackend.port, ACCESS_KEY), requestFor: fastGet('object-64m.bin') },
    { backend: 'node sink', op: 'PUT', targets: await startTargets(sink.port, ACCESS_KEY), requestFor: fastPut(OBJECT_BYTES) },
  ];
  const devTargets = await startTargets(devServer.port, devKey);
  scenarios.push(
    { backend: 'development server', op: 'PUT', targets: devTargets, requestFor: devRequest(devServer, 'PUT', OBJECT_BYTES) },
    { backend: 'development server', op: 'GET', targets: devTargets, requestFor: devRequest(devServer, 'GET', 0) },
  );

  const rows = [];
  const checks = [];
  for (const scenario of scenarios) {
    const results = await measureScenario(scenario);
    const direct = results.find((result) => result.target.name === 'direct');
    for (const { target, mbPerSecond } of results) {
      rows.push([scenario.backend, scenario.op, target.name, fixed(mbPerSecond), fixed(mbPerSecond / direct.mbPerSecond, 2)]);
    }
    const proxy = results.find((result) => result.target.name === 'tenants proxy');
    const ratio = proxy.mbPerSecond / direct.mbPerSecond;
    checks.push([`64 MiB ${scenario.op}, ${scenario.backend}: proxy vs direct`, fixed(ratio, 2), '>= 0.90', verdict(ratio >= 0.9)]);
  }
  printTable(`64 MiB transfers, one at a time (median of ${ROUNDS}; MB = 10^6 bytes)`, ['backend', 'op', 'target', 'MB/s', 'vs direct'], rows);

  const streams = [
    { name: '1 GiB GET from nginx file', target: scenarios[0].targets, requestFor: fastGet('stream-1g.bin'), bytes: STREAM_BYTES },
    { name: '1 GiB PUT to node sink', target: scenarios[1].targets, requestFor: fastPut(STREAM_BYTES), bytes: STREAM_BYTES },
    { name: '1 GiB PUT to development server', target: devTargets, requestFor: devRequest(devServer, 'PUT', STREAM_BYTES), bytes: STREAM_BYTES },
  ];
  const rssRows = [];
  for (const stream of streams) {
    const proxy = stream.target.find((target) => target.name === 'tenants proxy');
    const { peakMiB, idleMiB, mbPerSecond } = await measureProxyRss(proxy, stream);
    rssRows.push([stream.name, fixed(idleMiB, 1), fixed(peakMiB, 1), fixed(mbPerSecond)]);
    checks.push([`proxy peak RSS, ${stream.name}`, `${fixed(peakMiB, 1)} MiB`, '< 150 MiB', verdict(peakMiB < 150)]);
  }
  printTable(`Tenants proxy RSS while 1 GiB streams (sampled every ${RSS_SAMPLE_INTERVAL_MS} ms)`, ['stream', 'RSS before MiB', 'peak RSS MiB', 'MB/s'], rssRows);
  printTable('Targets', ['target', 'measured', 'goal', 'result'], checks);
});

async function startTargets(backendPort, accessKey) {
  const routes = routesTo(backendPort, accessKey);
  return [directTarget(backendPort), await startTenantsProxy(routes), await startNginxTarget(routes), await startHaproxyTarget(routes)];
}

function fastGet(file) {
  return async (target) => ({ url: `http://127.0.0.1:${target.port}/large/${file}`, method: 'GET', headers: sigV4ShapedHeaders(ACCESS_KEY) });
}

function fastPut(bytes) {
  return async (target) => ({ url: `http://127.0.0.1:${target.port}/bench/upload.bin`, method: 'PUT', uploadBytes: bytes, headers: sigV4ShapedHeaders(ACCESS_KEY) });
}

/** Presigns a request for each target; the GET reads the object that the PUT scenario stored through the same target. */
function devRequest(devServer, method, bytes) {
  return async (target) => ({
    url: await presignUrl(target.port, devServer.credentials, method, 'bench', `object-${target.port}.bin`),
    method,
    uploadBytes: bytes,
  });
}

/** Runs ROUNDS transfers per target, targets in turn, and keeps the median rate of each. */
async function measureScenario({ targets, requestFor, op }) {
  const requests = await Promise.all(targets.map(requestFor));
  const rates = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, request] of requests.entries()) {
      const result = await checkedTransfer(request);
      const bytes = op === 'PUT' ? request.uploadBytes : result.bytesReceived;
      rates[i].push(bytes / result.seconds / 1e6);
    }
  }
  return targets.map((target, i) => {
    const sorted = rates[i].sort((a, b) => a - b);
    return { target, mbPerSecond: sorted[Math.floor(sorted.length / 2)] };
  });
}

async function checkedTransfer(request) {
  const result = await transfer(request.url, request);
  if (result.status !== 200) {
    throw new Error(`${request.method} ${request.url.split('?')[0]} responded with status ${result.status}`);
  }
  if (request.method === 'GET' && result.bytesReceived < OBJECT_BYTES) {
    throw new Error(`GET ${request.url.split('?')[0]} returned ${result.bytesReceived} bytes, fewer than ${OBJECT_BYTES}`);
  }
  return result;
}

async function measureProxyRss(proxy, stream) {
  const pid = proxy.pids[0];
  const idleMiB = await rssMiB(pid);
  let peakMiB = idleMiB;
  const sampler = setInterval(() => {
    rssMiB(pid).then((value) => (peakMiB = Math.max(peakMiB, value)), () => {});
  }, RSS_SAMPLE_INTERVAL_MS);
  try {
    const request = await stream.requestFor(proxy);
    const result = await checkedTransfer(request);
    return { idleMiB, peakMiB, mbPerSecond: stream.bytes / result.seconds / 1e6 };
  } finally {
    clearInterval(sampler);
  }
}
