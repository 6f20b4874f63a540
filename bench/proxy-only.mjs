// Runs the tenants proxy alone, for load tests and `node --cpu-prof`:
//
//   node bench/proxy-only.mjs --routes ROUTES.json --listen 127.0.0.1:PORT [--workers N]
//
// With --workers N > 1, node:cluster forks N processes that each run startProxy on the same
// port and the primary hands out connections round-robin. The proxy itself has no cluster
// mode; this only measures what one would gain. Prints one JSON line {"url", "port", "pid"}
// once listening, and stops on SIGTERM or SIGINT. Needs `npx tsc -p tsconfig.json` first.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
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

if (workers > 1 && cluster.isPrimary) {
  await runPrimary(workers);
} else {
  await runProxy(values.routes, values.listen);
}

async function runProxy(routesFile, listen) {
  const proxy = await startProxy({ routesFile, listen });
  const stop = () => {
    // Load generators may keep connections open, so a stop drops them instead of draining.
    proxy.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (cluster.isWorker) {
    process.send({ type: 'listening', port: proxy.port, url: proxy.url });
  } else {
    console.log(JSON.stringify({ url: proxy.url, port: proxy.port, pid: process.pid }));
  }
}

async function runPrimary(count) {
  if (values.listen.endsWith(':0')) {
    console.error('--workers needs a fixed port in --listen, so that every worker binds the same one');
    process.exit(2);
  }
  const forked = Array.from({ length: count }, () => cluster.fork());
  const stop = () => {
    for (const worker of forked) {
      if (worker.process.exitCode === null) process.kill(worker.process.pid, 'SIGTERM');
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', (worker, code, signal) => {
    console.error(`proxy worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping the cluster`);
    stop();
  });

  const ready = await Promise.all(
    forked.map((worker) => new Promise((resolve) => worker.on('message', (message) => message.type === 'listening' && resolve(message)))),
  );
  console.log(
    JSON.stringify({ url: ready[0].url, port: ready[0].port, pid: process.pid, workerPids: forked.map((worker) => worker.process.pid) }),
  );
}
