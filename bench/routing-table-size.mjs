// Routing cost against the size of the routing table: the same small signed GET through
// the tenants proxy, nginx and HAProxy with 1, 10, 100 and 1,000 routes. The request's
// access key is always the last route, so a table scanned in order shows its whole cost.
// The backend is the nginx static server, so that routing is a visible part of the cost.
//
//   npm run bench:routes     (BENCH_DURATION_S: seconds per run, default 3; BENCH_ROUNDS: default 3)
import { startStaticBackend } from './lib/backends.mjs';
import { fixed, machineLine, printTable, processTreeTicks, TICKS_PER_SECOND, verdict } from './lib/report.mjs';
import { runBenchmark, stopProcess } from './lib/processes.mjs';
import { sigV4ShapedHeaders } from './lib/signed-request.mjs';
import { routesTo, startHaproxyTarget, startNginxTarget, startTenantsProxy } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
const TABLE_SIZES = [1, 10, 100, 1000];
const ACCESS_KEY = 'BENCHROUTESKEY000001';
/**
 * CPU time per request at 1,000 routes within this fraction of 1 route counts as flat. CPU
 * time is the verdict because req/s moves by more than this between runs on a shared machine.
 */
const FLAT_TOLERANCE = 0.1;

await runBenchmark(async () => {
  console.log(machineLine());
  const backend = await startStaticBackend();
  const rows = [];

  for (const size of TABLE_SIZES) {
    const routes = routesTo(backend.port, ACCESS_KEY, size);
    const targets = [await startTenantsProxy(routes), await startNginxTarget(routes), await startHaproxyTarget(routes)];
    try {
      for (const target of targets) {
        await runWrk({ ...requestFor(target), connections: CONNECTIONS, durationS: 1 });
      }
      for (const [target, run] of await medianRuns(targets)) {
        rows.push({ size, target: target.name, run });
      }
    } finally {
      for (const target of targets) await stopProcess(target.child);
    }
  }

  printTable(
    `Small GETs by routing table size (${CONNECTIONS} connections, median of ${ROUNDS} runs of ${DURATION_S} s)`,
    ['routes', 'target', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms'],
    rows.map(({ size, target, run }) => [
      String(size),
      target,
      fixed(run.requestsPerSecond),
      fixed(run.cpuUsPerRequest, 1),
      fixed(run.p50Ms, 2),
      fixed(run.p99Ms, 2),
    ]),
  );

  const checks = [];
  for (const target of [...new Set(rows.map((row) => row.target))]) {
    const first = rows.find((row) => row.target === target && row.size === TABLE_SIZES[0]).run;
    const last = rows.find((row) => row.target === target && row.size === TABLE_SIZES.at(-1)).run;
    const ratio = last.requestsPerSecond / first.requestsPerSecond;
    const cpuRatio = last.cpuUsPerRequest / first.cpuUsPerRequest;
    checks.push([
      `${target}: 1,000 vs 1 route`,
      `req/s ${fixed(ratio, 2)}, CPU/req ${fixed(cpuRatio, 2)}`,
      `CPU/req <= ${1 + FLAT_TOLERANCE}`,
      target === 'tenants proxy' ? verdict(cpuRatio <= 1 + FLAT_TOLERANCE) : '(reference)',
    ]);
  }
  printTable('Targets', ['target', 'measured', 'goal', 'result'], checks);
});

function requestFor(target) {
  return { url: `http://127.0.0.1:${target.port}/bench/small.txt`, headers: sigV4ShapedHeaders(ACCESS_KEY) };
}

/** Runs each target ROUNDS times in turn; returns [target, run with the median req/s] pairs. */
async function medianRuns(targets) {
  const runs = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, target] of targets.entries()) {
      const ticksBefore = await processTreeTicks(target.pids);
      const run = await runWrk({ ...requestFor(target), connections: CONNECTIONS, durationS: DURATION_S });
      run.cpuUsPerRequest = (((await processTreeTicks(target.pids)) - ticksBefore) * 1e6) / TICKS_PER_SECOND / run.requests;
      runs[i].push(run);
    }
  }
  return targets.map((target, i) => {
    const sorted = runs[i].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    return [target, sorted[Math.floor(sorted.length / 2)]];
  });
}
