import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_PROXY_WORKERS, proxyWorkers } from '../config/defaults.js';
import { createLogger } from '../log/logger.js';
import { startProxyCluster } from '../proxy/proxy-cluster.js';
import { startProxy } from '../proxy/server.js';

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('Run only the routing proxy, reading an existing routing table')
    .requiredOption('--routes <file>', 'routing table to read, such as .minio-tenants/routes.json; reloaded when it changes')
    .option('--listen <address>', 'host:port to listen on', '127.0.0.1:9000')
    .option('--tls-cert <file>', 'PEM certificate (with intermediates) to serve HTTPS; needs --tls-key; reloaded when it changes')
    .option('--tls-key <file>', 'PEM private key of --tls-cert, unencrypted')
    .option('--workers <n|auto>', `proxy processes sharing the port, 1 to ${MAX_PROXY_WORKERS}, or auto for one per CPU core`, parseWorkers, 1)
    .action(async (options: { routes: string; listen: string; tlsCert?: string; tlsKey?: string; workers: number }) => {
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
        program.error('error: --tls-cert and --tls-key must be given together; pass both to serve HTTPS, or neither for HTTP');
      }
      const tls = options.tlsCert === undefined ? undefined : { certFile: resolve(options.tlsCert), keyFile: resolve(options.tlsKey as string) };
      const logger = createLogger();
      const routesFile = resolve(options.routes);
      const proxy =
        options.workers === 1
          ? await startProxy({ routesFile, listen: options.listen, logger, tls })
          : await startProxyCluster({ routesFile, listen: options.listen, logger, tls, workers: options.workers });
      process.stdout.write(`proxy listening on ${proxy.url}, routes from ${resolve(options.routes)}\n`);
      const stop = (): void => {
        void proxy.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function parseWorkers(value: string): number {
  const count = value === 'auto' ? proxyWorkers('auto') : Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_PROXY_WORKERS) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_PROXY_WORKERS} or auto, got ${JSON.stringify(value)}`);
  }
  return count;
}
