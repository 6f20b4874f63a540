// The ways a client reaches a backend: directly, through the tenants proxy (one process or
// a cluster), through nginx and through HAProxy. Each start function returns
// { name, port, pids } and its processes are tracked, so the run stops them.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRoutesFile } from '../../dist/routing/routes-file.js';
import { startHaproxy } from './haproxy.mjs';
import { freePort } from './network.mjs';
import { nginxTenantProxyBlock, startNginx } from './nginx.mjs';
import { makeTemporaryDir, startProcess } from './processes.mjs';

const PROXY_ONLY = fileURLToPath(new URL('../proxy-only.mjs', import.meta.url));

/**
 * Builds `count` routes to the same backend with distinct access keys. The measured
 * request uses `accessKey`, which gets the last route, so a table that were scanned in
 * order would show its full cost. The first route also owns host 127.0.0.1, so requests
 * without a key (presigned POST forms) reach a tenant as with `hosts:` in tenants.yaml.
 */
export function routesTo(backendPort, accessKey, count = 1) {
  return Array.from({ length: count }, (_, i) => ({
    name: `tenant-${i}`,
    accessKey: i === count - 1 ? accessKey : `OTHERKEY${String(i).padStart(12, '0')}`,
    upstreamHostPort: `127.0.0.1:${backendPort}`,
    hosts: i === 0 ? ['127.0.0.1'] : [],
  }));
}

export function directTarget(backendPort) {
  return { name: 'direct', port: backendPort, pids: [] };
}

/**
 * Starts bench/proxy-only.mjs on a routing table of `routes`. `workers` > 1 runs the
 * product's proxy cluster of that many workers, with node:cluster's `schedulingPolicy`
 * ('rr' or 'none', else Node's default); `nodeArgs` go to node, such as `--cpu-prof`.
 */
export async function startTenantsProxy(routes, { workers = 1, schedulingPolicy, nodeArgs = [], cwd } = {}) {
  const dir = await makeTemporaryDir('bench-tenants-proxy');
  const routesFile = join(dir, 'routes.json');
  await writeRoutesFile(
    routesFile,
    routes.map((route) => ({
      name: route.name,
      upstream: `http://${route.upstreamHostPort}`,
      accessKeys: [route.accessKey],
      state: 'running',
      hosts: route.hosts,
    })),
  );
  const port = await freePort();
  const child = startProcess(
    process.execPath,
    [...nodeArgs, PROXY_ONLY, '--routes', routesFile, '--listen', `127.0.0.1:${port}`, '--workers', String(workers)],
    {
      label: `tenants proxy (${workers} process${workers > 1 ? 'es' : ''})`,
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd,
      env: schedulingPolicy === undefined ? process.env : { ...process.env, NODE_CLUSTER_SCHED_POLICY: schedulingPolicy },
    },
  );
  const ready = await firstJsonLine(child);
  const policy = schedulingPolicy === undefined ? '' : `, ${schedulingPolicy === 'rr' ? 'SCHED_RR' : 'SCHED_NONE'}`;
  const name = workers > 1 ? `tenants proxy, ${workers} workers${policy}` : 'tenants proxy';
  // processTreeTicks adds the children of each pid, so the workers are counted through the
  // primary's pid; listing them as well would count them twice.
  return { name, port, pids: [ready.pid], workerPids: ready.workerPids, child };
}

export async function startNginxTarget(routes, { workerProcesses = 2 } = {}) {
  const port = await freePort();
  const { child } = await startNginx({
    label: 'nginx-proxy',
    workerProcesses,
    readyPort: port,
    httpBlock: nginxTenantProxyBlock({ listenPort: port, routes }),
  });
  return { name: `nginx (${workerProcesses} workers)`, port, pids: [child.pid], child };
}

export async function startHaproxyTarget(routes, { threads = 2 } = {}) {
  const port = await freePort();
  const { child } = await startHaproxy({ threads, listenPort: port, routes });
  return { name: `HAProxy (${threads} threads)`, port, pids: [child.pid], child };
}

/**
 * Starts every target in front of one backend, in the order the tables show them. Each
 * entry of `proxies` is the options of one tenants proxy target.
 */
export async function startAllTargets(routes, backendPort, { proxies = [{ workers: 1 }, { workers: 2 }] } = {}) {
  const targets = [directTarget(backendPort)];
  for (const options of proxies) targets.push(await startTenantsProxy(routes, options));
  targets.push(await startNginxTarget(routes));
  targets.push(await startHaproxyTarget(routes));
  return targets;
}

function firstJsonLine(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      try {
        resolve(JSON.parse(buffered.slice(0, newline)));
      } catch (error) {
        reject(new Error(`${child.label} printed an unexpected first line: ${buffered.slice(0, newline)}`, { cause: error }));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${child.label} exited before listening (${signal ?? `code ${code}`})`)));
  });
}
