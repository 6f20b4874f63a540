import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { startProxyCluster } from '../proxy/proxy-cluster.js';
import { startProxy, type ProxyHandle } from '../proxy/server.js';
import { statePaths, type StatePaths } from '../state/paths.js';
import { startControlServer, type ControlServer } from './control-server.js';
import { resolveEngine, type Engine } from './engine.js';
import { stopOrphanedServers } from './orphans.js';
import { spawnServer } from './spawn-server.js';
import { Supervisor, type ReloadSummary, type TenantStartResult } from './supervisor.js';
import { acquireSupervisorLock } from './supervisor-lock.js';
import { loadTenantSpecs, supervisorLogFile } from './tenant-specs.js';
import { LogRotator } from './log-rotation.js';

/** How long a graceful proxy close waits for requests in flight before dropping them. */
const PROXY_CLOSE_TIMEOUT_MS = 5_000;

export interface RunningSupervisor {
  engine: Engine;
  proxy: ProxyHandle;
  results: TenantStartResult[];
  /** Re-reads tenants.yaml and applies the difference; what SIGHUP and `reload` do. */
  reload(): Promise<ReloadSummary>;
  /** Stops the control socket and the proxy, then every server, then releases the lock. */
  shutdown(): Promise<void>;
}

export interface StartSupervisorOptions {
  logger: Logger;
  onEngine?: (engine: Engine) => void;
  onTenantSettled?: (result: TenantStartResult) => void;
}

/**
 * Runs the `up` sequence: take the state-directory lock, choose the engine, stop servers that
 * a killed supervisor left behind, load the tenants, start the proxy and the control
 * socket, then every server. On a failure before the servers run, whatever was started is
 * stopped again and the lock released.
 */
export async function startSupervisor(config: Config, options: StartSupervisorOptions): Promise<RunningSupervisor> {
  const { logger } = options;
  const paths = statePaths(config.stateDir);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });

  const lock = await acquireSupervisorLock(paths);
  let proxy: ProxyHandle | undefined;
  let control: ControlServer | undefined;
  let supervisor: Supervisor | undefined;
  try {
    const engine = await resolveEngine({ command: config.server.command, flavor: config.server.flavor, baseDir: dirname(config.file) });
    options.onEngine?.(engine);
    logger.info({ engine: engine.kind, version: engine.version, flavor: engine.flavor, file: engine.file }, 'engine chosen');
    await stopOrphanedServers(paths, config.supervisor.stopTimeoutMs, logger);
    const tenants = await loadTenantSpecs(config, paths, logger);

    const running = new Supervisor({ config, paths, engine, tenants, spawn: spawnServer, logger });
    supervisor = running;
    const tls = config.proxy.tls === undefined ? undefined : { certFile: config.proxy.tls.cert, keyFile: config.proxy.tls.key };
    proxy =
      config.proxy.workers === 1
        ? await startProxy({ routesFile: paths.routes, listen: config.proxy.listen, logger, tls })
        : await startProxyCluster({
            routesFile: paths.routes,
            listen: config.proxy.listen,
            logger,
            tls,
            workers: config.proxy.workers,
            logFile: supervisorLogFile(paths),
          });
    logger.info({ listen: proxy.address, workers: config.proxy.workers }, 'proxy started');
    const reload = serialize(() => reloadFromDisk(config, paths, running, logger));
    control = await startControlServer(paths.controlSocket, { reload, restart: (name) => running.restartTenant(name) }, logger);
    const rotator = new LogRotator({
      files: () => [supervisorLogFile(paths), ...running.tenantNames().map((name) => paths.log(name))],
      maxBytes: config.logs.maxBytes,
      keep: config.logs.keep,
      logger,
    });
    rotator.start();
    const results = await running.start(options.onTenantSettled);

    const startedProxy = proxy;
    const startedControl = control;
    return {
      engine,
      proxy: startedProxy,
      results,
      reload,
      shutdown: async () => {
        rotator.stop();
        await startedControl.close();
        await closeProxy(startedProxy);
        await running.stop();
        await lock.release();
        logger.info({}, 'supervisor stopped');
      },
    };
  } catch (error) {
    await control?.close();
    proxy?.destroy();
    await supervisor?.stop();
    await lock.release();
    throw error;
  }
}

/**
 * Applies an edited tenants.yaml. The running proxy and supervisor were built from the
 * listen address, state directory and server command, so a change to those is logged and
 * takes effect only at the next `up`.
 */
async function reloadFromDisk(started: Config, paths: StatePaths, supervisor: Supervisor, logger: Logger): Promise<ReloadSummary> {
  const config = await loadConfig(started.file);
  for (const [key, before, after] of [
    ['proxy.listen', started.proxy.listen, config.proxy.listen],
    ['proxy.workers', started.proxy.workers, config.proxy.workers],
    ['stateDir', started.stateDir, config.stateDir],
    ['server.command', started.server.command, config.server.command],
  ] as const) {
    if (before !== after) {
      logger.warn({ key, running: before, configured: after }, 'setting changed; it takes effect at the next up');
    }
  }
  const specs = await loadTenantSpecs(config, paths, logger);
  return supervisor.apply({ ...config, proxy: started.proxy, stateDir: started.stateDir, server: started.server }, specs);
}

/** Runs calls of `task` one at a time, in order. */
function serialize<T>(task: () => Promise<T>): () => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(task, task);
    last = next.catch(() => {});
    return next;
  };
}

async function closeProxy(proxy: ProxyHandle): Promise<void> {
  const timer = setTimeout(() => proxy.destroy(), PROXY_CLOSE_TIMEOUT_MS);
  try {
    await proxy.close();
  } finally {
    clearTimeout(timer);
  }
}
