import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../log/logger.js';
import { startProxy } from '../proxy/server.js';

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('Run only the routing proxy, reading an existing routing table')
    .requiredOption('--routes <file>', 'routing table to read, such as .minio-tenants/routes.json; reloaded when it changes')
    .option('--listen <address>', 'host:port to listen on', '127.0.0.1:9000')
    .option('--tls-cert <file>', 'PEM certificate (with intermediates) to serve HTTPS; needs --tls-key; reloaded when it changes')
    .option('--tls-key <file>', 'PEM private key of --tls-cert, unencrypted')
    .action(async (options: { routes: string; listen: string; tlsCert?: string; tlsKey?: string }) => {
      if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
        program.error('error: --tls-cert and --tls-key must be given together; pass both to serve HTTPS, or neither for HTTP');
      }
      const tls = options.tlsCert === undefined ? undefined : { certFile: resolve(options.tlsCert), keyFile: resolve(options.tlsKey as string) };
      const logger = createLogger();
      const proxy = await startProxy({ routesFile: resolve(options.routes), listen: options.listen, logger, tls });
      process.stdout.write(`proxy listening on ${proxy.url}, routes from ${resolve(options.routes)}\n`);
      const stop = (): void => {
        void proxy.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
