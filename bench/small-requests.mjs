// Small signed GETs through every target (direct, the tenants proxy in one process and as
// the product's cluster of two workers, nginx, HAProxy) to two backends (nginx responding from memory, and the
// development server). Two phases per target with wrk:
//   peak:      32 connections, as fast as they go
//   half load: 64 connections paced to half of the single-process proxy's peak
// and the p99 that each target adds over the direct connection at the same pace.
// Each phase runs ROUNDS times over all targets in turn and reports the median run, so a
// burst of load from another process on the machine hits every target alike.
//
//   npm run bench:small     (BENCH_DURATION_S: seconds per run, default 3; BENCH_ROUNDS: default 3)
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startDevServer, startStaticBackend } from './lib/backends.mjs';
import { fixed, machineLine, printTable, processTreeTicks, TICKS_PER_SECOND, verdict } from './lib/report.mjs';
import { runBenchmark, stopProcess } from './lib/processes.mjs';
import { presignUrl, s3Client } from './lib/s3.mjs';
import { sigV4ShapedHeaders } from './lib/signed-request.mjs';
import { routesTo, startAllTargets } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = 1;
const PEAK_CONNECTIONS = 32;
// Many connections with a long pause each, so that the latency is a small part of each
// connection's cycle and every target runs at nearly the same pace.
const PACED_CONNECTIONS = 64;
const STATIC_ACCESS_KEY = 'BENCHSTATICKEY000001';

await runBenchmark(async () => {
  console.log(machineLine());
  const summary = [];

  const staticBackend = await startStaticBackend();
  const staticResults = await measureBackend(staticBackend, routesTo(staticBackend.port, STATIC_ACCESS_KEY), (target) => ({
    url: `http://127.0.0.1:${target.port}/bench/small.txt`,
    headers: sigV4ShapedHeaders(STATIC_ACCESS_KEY),
  }));
  printResults('Small GETs, nginx static backend (SigV4 Authorization header, 256-byte body)', staticResults);
  summary.push(...targetChecks('static backend', staticResults));
  await stopProcess(staticBackend.child);

  const devServer = await startDevServer();
  const client = s3Client(devServer.port, devServer.credentials);
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'small.txt', Body: 'x'.repeat(256) }));
  const devResults = await measureBackend(devServer, routesTo(devServer.port, devServer.credentials.accessKeyId), async (target) => ({
    url: await presignUrl(target.port, devServer.credentials, 'GET', 'bench', 'small.txt'),
    headers: {},
  }));
  printResults('Small GETs, development server backend (presigned URL, 256-byte object)', devResults);
  summary.push(...targetChecks('development server', devResults));

  printTable('Targets', ['target', 'measured', 'goal', 'result'], summary);
});

/** Starts every target in front of `backend`, then runs the peak and paced phases on each. */
async function measureBackend(backend, routes, requestFor) {
  const targets = await startAllTargets(routes, backend.port);
  try {
    const results = [];
    for (const target of targets) {
      const request = await requestFor(target);
      await runWrk({ ...request, connections: PEAK_CONNECTIONS, durationS: WARMUP_S });
      results.push({ target, request });
    }
    await runRounds(results, 'peak', { connections: PEAK_CONNECTIONS, durationS: DURATION_S }, 'requestsPerSecond');

    const proxyPeak = results.find((result) => result.target.name === 'tenants proxy').peak.requestsPerSecond;
    const pacedRate = proxyPeak / 2;
    // Every connection waits this long after each response; see wrk-report.lua.
    const delayMs = Math.max(1, Math.round((PACED_CONNECTIONS * 1000) / pacedRate));
    await runRounds(results, 'paced', { connections: PACED_CONNECTIONS, durationS: DURATION_S, delayMs }, 'p99Ms');
    return { results, pacedRate, delayMs };
  } finally {
    for (const target of targets) {
      if (target.child !== undefined) await stopProcess(target.child);
    }
  }
}

/** Runs every target ROUNDS times in turn and keeps, per target, the run with the median `metric`. */
async function runRounds(results, phase, load, metric) {
  const runs = results.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, result] of results.entries()) {
      const pids = result.target.pids;
      const ticksBefore = await processTreeTicks(pids);
      const run = await runWrk({ ...result.request, ...load });
      // CPU time of the target's own processes per request; 0 for the direct connection.
      run.cpuUsPerRequest = (((await processTreeTicks(pids)) - ticksBefore) * 1e6) / TICKS_PER_SECOND / run.requests;
      runs[i].push(run);
    }
  }
  for (const [i, result] of results.entries()) {
    const sorted = runs[i].sort((a, b) => a[metric] - b[metric]);
    result[phase] = sorted[Math.floor(sorted.length / 2)];
  }
}

function printResults(title, { results, pacedRate, delayMs }) {
  const nginx = results.find((result) => result.target.name.startsWith('nginx'));
  const direct = results.find((result) => result.target.name === 'direct');
  printTable(
    `${title}: peak with ${PEAK_CONNECTIONS} connections, and paced at about ${fixed(pacedRate)} req/s ` +
      `(${PACED_CONNECTIONS} connections, ${delayMs} ms pause after each response)`,
    ['target', 'peak req/s', 'vs nginx', 'CPU µs/req', 'p50 ms', 'p99 ms', 'paced req/s', 'paced p50 ms', 'paced p99 ms', 'p99 added ms'],
    results.map(({ target, peak, paced }) => [
      target.name,
      fixed(peak.requestsPerSecond),
      fixed(peak.requestsPerSecond / nginx.peak.requestsPerSecond, 2),
      target.name === 'direct' ? '-' : fixed(peak.cpuUsPerRequest, 1),
      fixed(peak.p50Ms, 2),
      fixed(peak.p99Ms, 2),
      fixed(paced.requestsPerSecond),
      fixed(paced.p50Ms, 2),
      fixed(paced.p99Ms, 2),
      target.name === 'direct' ? '-' : fixed(paced.p99Ms - direct.paced.p99Ms, 2),
    ]),
  );
}

function targetChecks(backendName, { results }) {
  const by = (prefix) => results.find((result) => result.target.name.startsWith(prefix));
  const nginx = by('nginx');
  const direct = by('direct');
  const checks = [];
  for (const proxy of [by('tenants proxy'), by('tenants proxy, 2 workers')]) {
    const ratio = proxy.peak.requestsPerSecond / nginx.peak.requestsPerSecond;
    checks.push([`${proxy.target.name}, ${backendName}: req/s vs nginx`, fixed(ratio, 2), '>= 0.80', verdict(ratio >= 0.8)]);
  }
  const single = by('tenants proxy');
  // Cores the proxy would need for 0.8 of nginx's rate at its measured CPU cost per request.
  const coresNeeded = (0.8 * nginx.peak.requestsPerSecond * single.peak.cpuUsPerRequest) / 1e6;
  checks.push([
    `tenants proxy, ${backendName}: cores for 0.8 of nginx (${fixed(0.8 * nginx.peak.requestsPerSecond)} req/s)`,
    `${fixed(coresNeeded, 1)} cores at ${fixed(single.peak.cpuUsPerRequest, 1)} µs/req`,
    'estimate',
    '-',
  ]);
  const added = single.paced.p99Ms - direct.paced.p99Ms;
  checks.push([`tenants proxy, ${backendName}: p99 added at half load`, `${fixed(added, 3)} ms`, '< 1 ms', verdict(added < 1)]);
  return checks;
}
