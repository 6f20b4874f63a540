/**
 * Entry point of a proxy cluster worker, started by `startProxyCluster()` through
 * node:cluster. It runs `startProxy()` with the settings in its environment, reports to
 * the primary over IPC and exits once its proxy has closed.
 */
import cluster from 'node:cluster';
import { TenantsError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { TemporaryKey } from './learned-keys.js';
import { decodeWorkerSettings, isPrimaryMessage, WORKER_SETTINGS_VARIABLE, type PrimaryMessage, type WorkerMessage } from './proxy-worker-protocol.js';
import { startProxy, type LocalProxyHandle } from './server.js';

/** Exit code after a failed start, once the worker has sent the error to the primary. */
const START_FAILED_EXIT_CODE = 78;

await runProxyWorker();

async function runProxyWorker(): Promise<void> {
  if (cluster.worker === undefined || process.send === undefined) {
    process.stderr.write('proxy-worker.js runs only as a node:cluster worker of startProxyCluster()\n');
    process.exit(2);
  }
  // A Ctrl-C or a terminal hangup reaches the whole process group. The primary then
  // closes the workers gracefully, so they ignore these signals.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  const settings = decodeWorkerSettings(process.env[WORKER_SETTINGS_VARIABLE]);
  const logger = createLogger({ file: settings.logFile }).child({ worker: cluster.worker.id });

  // Keys may arrive before the proxy listens; they wait here until it does.
  const pendingKeys: TemporaryKey[] = [];
  let proxy: LocalProxyHandle | undefined;
  process.on('message', (message: unknown) => {
    if (isPrimaryMessage(message)) {
      handlePrimaryMessage(message, proxy, pendingKeys, logger);
    }
  });
  // IPC is ordered, so the primary's reply with the learned keys arrives before the reply
  // to this worker's listen request.
  void send({ type: 'ready' });

  try {
    proxy = await startProxy({
      routesFile: settings.routesFile,
      listen: settings.listen,
      tls: settings.tls,
      limits: settings.limits,
      retryAfterSeconds: settings.retryAfterSeconds,
      logger,
      onKeyLearned: (key) => void send({ type: 'key-learned', key }),
    });
  } catch (error) {
    const code = error instanceof TenantsError ? error.code : 'PROXY_WORKER_FAILED';
    logger.error({ err: error }, 'proxy worker failed to start');
    await send({ type: 'start-failed', code, message: (error as Error).message });
    process.exit(START_FAILED_EXIT_CODE);
  }

  for (const key of pendingKeys.splice(0)) {
    proxy.learnKey(key);
  }
  await send({ type: 'listening', address: proxy.address, port: proxy.port, url: proxy.url });
}

function handlePrimaryMessage(message: PrimaryMessage, proxy: LocalProxyHandle | undefined, pendingKeys: TemporaryKey[], logger: Logger): void {
  switch (message.type) {
    case 'learn-keys':
      if (proxy === undefined) {
        pendingKeys.push(...message.keys);
        return;
      }
      for (const key of message.keys) {
        proxy.learnKey(key);
      }
      return;
    case 'reload':
      // Before the proxy listens there is nothing to reload: its start reads the table.
      void (proxy?.reload() ?? Promise.resolve()).then(
        () => send({ type: 'reloaded', requestId: message.requestId }),
        (error: unknown) => send({ type: 'reloaded', requestId: message.requestId, error: errorFields(error) }),
      );
      return;
    case 'close':
      void closeAndExit(proxy, logger);
      return;
  }
}

async function closeAndExit(proxy: LocalProxyHandle | undefined, logger: Logger): Promise<void> {
  try {
    await proxy?.close();
  } catch (error) {
    logger.error({ err: error }, 'proxy worker failed to close');
  }
  process.exit(0);
}

/** Sends `message` to the primary; resolves once it is written, so that an exit right after it does not lose it. */
function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    process.send?.(message, undefined, {}, () => resolve());
  });
}

function errorFields(error: unknown): { code: string; message: string } {
  return { code: error instanceof TenantsError ? error.code : 'PROXY_RELOAD_FAILED', message: (error as Error).message };
}
