import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { startProxy, type ProxyHandle } from '../proxy/server.js';
import { statePaths } from '../state/paths.js';
import { resolveEngine, type Engine } from './engine.js';
import { DEFAULT_RESTART_POLICY } from './restart-policy.js';
import { spawnServer } from './spawn-server.js';
import { Supervisor, type TenantStartResult } from './supervisor.js';
import { acquireSupervisorLock } from './supervisor-lock.js';
import { loadTenantSpecs } from './tenant-specs.js';

export const DEFAULT_READY_TIMEOUT_MS = 30_000;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** How long a graceful proxy close waits for requests in flight before dropping them. */
const PROXY_CLOSE_TIMEOUT_MS = 5_000;

export interface RunningSupervisor {
  engine: Engine;
  proxy: ProxyHandle;
  results: TenantStartResult[];
  /** Stops the proxy, then every server (SIGTERM, SIGKILL after the stop timeout), then releases the lock. */
  shutdown(): Promise<void>;
}

export interface StartSupervisorOptions {
  logger: Logger;
  onEngine?: (engine: Engine) => void;
  onTenantSettled?: (result: TenantStartResult) => void;
}

/**
 * The `up` sequence: take the state-directory lock, choose the engine, load the tenants,
 * start the proxy and then every server. On a failure before the servers run, whatever was
 * started is stopped again and the lock released.
 */
export async function startSupervisor(config: Config, options: StartSupervisorOptions): Promise<RunningSupervisor> {
  const { logger } = options;
  const paths = statePaths(config.stateDir);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });

  const lock = await acquireSupervisorLock(paths);
  let proxy: ProxyHandle | undefined;
  let supervisor: Supervisor | undefined;
  try {
    const engine = await resolveEngine({ command: config.server.command, flavor: config.server.flavor, baseDir: dirname(config.file) });
    options.onEngine?.(engine);
    logger.info({ engine: engine.kind, version: engine.version, flavor: engine.flavor, file: engine.file }, 'engine chosen');
    const tenants = await loadTenantSpecs(config, paths);

    supervisor = new Supervisor({
      paths,
      engine,
      tenants,
      extraArgs: config.server.args,
      extraEnv: config.server.env,
      readyTimeoutMs: DEFAULT_READY_TIMEOUT_MS,
      stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
      policy: DEFAULT_RESTART_POLICY,
      spawn: spawnServer,
      logger,
      proxy: { listen: config.proxy.listen, url: config.proxy.publicUrl },
    });
    proxy = await startProxy({ routesFile: paths.routes, listen: config.proxy.listen, logger });
    logger.info({ listen: proxy.address }, 'proxy started');
    const results = await supervisor.start(options.onTenantSettled);
    const startedProxy = proxy;
    const startedSupervisor = supervisor;

    return {
      engine,
      proxy: startedProxy,
      results,
      shutdown: async () => {
        await closeProxy(startedProxy);
        await startedSupervisor.stop();
        await lock.release();
        logger.info({}, 'supervisor stopped');
      },
    };
  } catch (error) {
    proxy?.destroy();
    await supervisor?.stop();
    await lock.release();
    throw error;
  }
}

async function closeProxy(proxy: ProxyHandle): Promise<void> {
  const timer = setTimeout(() => proxy.destroy(), PROXY_CLOSE_TIMEOUT_MS);
  try {
    await proxy.close();
  } finally {
    clearTimeout(timer);
  }
}
