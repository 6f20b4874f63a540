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
    .action(async (options: { routes: string; listen: string }) => {
      const logger = createLogger();
      const proxy = await startProxy({ routesFile: resolve(options.routes), listen: options.listen, logger });
      process.stdout.write(`proxy listening on ${proxy.url}, routes from ${resolve(options.routes)}\n`);
      const stop = (): void => {
        void proxy.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
