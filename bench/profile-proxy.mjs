// CPU profile of the tenants proxy under the small-GET load of small-requests.mjs: starts
// the nginx static backend and bench/proxy-only.mjs with `node --cpu-prof`, loads it with
// wrk, stops it with SIGTERM (which writes the profile) and prints the functions with the
// most self time and the share of time by source file.
//
//   npm run bench:profile     (BENCH_PROFILE_DIR keeps the .cpuprofile, default: a temp dir)
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startStaticBackend } from './lib/backends.mjs';
import { fixed, machineLine, printTable } from './lib/report.mjs';
import { makeTemporaryDir, runBenchmark, stopProcess } from './lib/processes.mjs';
import { sigV4ShapedHeaders } from './lib/signed-request.mjs';
import { routesTo, startTenantsProxy } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const DURATION_S = 10;
const CONNECTIONS = 32;
const TOP_FUNCTIONS = 25;
const ACCESS_KEY = 'BENCHPROFILEKEY00001';

await runBenchmark(async () => {
  console.log(machineLine());
  const profileDir = process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR) : await makeTemporaryDir('bench-cpu-profile');
  await mkdir(profileDir, { recursive: true });

  const backend = await startStaticBackend();
  const proxy = await startTenantsProxy(routesTo(backend.port, ACCESS_KEY), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
  const load = await runWrk({
    url: `http://127.0.0.1:${proxy.port}/bench/small.txt`,
    headers: sigV4ShapedHeaders(ACCESS_KEY),
    connections: CONNECTIONS,
    durationS: DURATION_S,
  });
  await stopProcess(proxy.child);
  console.log(`load: ${fixed(load.requestsPerSecond)} req/s, p50 ${fixed(load.p50Ms, 2)} ms, p99 ${fixed(load.p99Ms, 2)} ms while profiling`);

  const file = (await readdir(profileDir)).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`the proxy wrote no .cpuprofile to ${profileDir}`);
  const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8'));
  const { byFunction, byFile, totalUs } = selfTimes(profile);
  console.log(`profile: ${join(profileDir, file)}`);

  printTable(
    `Self time by function (top ${TOP_FUNCTIONS})`,
    ['function', 'location', 'self %'],
    byFunction.slice(0, TOP_FUNCTIONS).map((entry) => [entry.name, entry.location, fixed((100 * entry.us) / totalUs, 1)]),
  );
  printTable(
    'Self time by source',
    ['source', 'self %'],
    byFile.map((entry) => [entry.name, fixed((100 * entry.us) / totalUs, 1)]),
  );
});

/** Sums sample time per node, then per function and per source file, in microseconds. */
function selfTimes(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const perNode = new Map();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i];
    perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }

  const functions = new Map();
  const files = new Map();
  let totalUs = 0;
  for (const [id, us] of perNode) {
    const { callFrame } = nodes.get(id);
    const source = sourceName(callFrame.url, callFrame.functionName);
    const location = callFrame.url === '' ? source : `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`;
    const key = `${callFrame.functionName}@${location}`;
    const entry = functions.get(key) ?? { name: callFrame.functionName || '(anonymous)', location, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    files.set(source, (files.get(source) ?? 0) + us);
    totalUs += us;
  }
  const byFunction = [...functions.values()].sort((a, b) => b.us - a.us);
  const byFile = [...files].map(([name, us]) => ({ name, us })).sort((a, b) => b.us - a.us);
  return { byFunction, byFile, totalUs };
}

/** Groups samples: project files by path, Node's own modules by module, the rest by V8's label. */
function sourceName(url, functionName) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  return shortUrl(url);
}

function shortUrl(url) {
  const project = url.indexOf('/dist/');
  if (project !== -1) return url.slice(project + 1);
  const modules = url.indexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + 1);
  return url.replace(/^file:\/\//, '');
}
