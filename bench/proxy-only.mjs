// Runs the tenants proxy alone, for load tests and `node --cpu-prof`:
//
//   node bench/proxy-only.mjs --routes ROUTES.json --listen 127.0.0.1:PORT [--workers N]
//
// With --workers 1 (the default) it runs startProxy in this process; with N > 1 it runs
// the product's startProxyCluster, whose N worker processes share one listening socket.
// NODE_CLUSTER_SCHED_POLICY=rr or none picks node:cluster's scheduling policy. Node.js
// options given to this script (such as --cpu-prof) are passed on to the workers. Prints
// one JSON line {"url", "port", "pid", "workerPids"} once listening, and stops on SIGTERM
// or SIGINT. Needs `npx tsc -p tsconfig.json` first.
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startProxyCluster } from '../dist/proxy/proxy-cluster.js';
import { startProxy } from '../dist/proxy/server.js';

const { values } = parseArgs({
  options: {
    routes: { type: 'string' },
    listen: { type: 'string', default: '127.0.0.1:0' },
    workers: { type: 'string', default: '1' },
  },
});
if (values.routes === undefined) {
  console.error('missing --routes: give the path of a routing table written by writeRoutesFile');
  process.exit(2);
}
const workers = Number(values.workers);

const proxy =
  workers === 1
    ? await startProxy({ routesFile: values.routes, listen: values.listen })
    : await startProxyCluster({ routesFile: values.routes, listen: values.listen, workers, execArgv: process.execArgv });
const stop = () => {
  // Load generators may keep connections open, so a stop drops them instead of draining.
  proxy.destroy();
  setTimeout(() => process.exit(0), workers === 1 ? 0 : 200);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(JSON.stringify({ url: proxy.url, port: proxy.port, pid: process.pid, workerPids: childPids() }));

/** Pids of this process's children, the cluster workers, from /proc. */
function childPids() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        // The process exited while the list was read.
        return false;
      }
    })
    .map(Number);
}
