import type { Command } from 'commander';
import { DEFAULTS } from '../config/defaults.js';
import { loadConfig, resolveStateDirLeniently } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { TenantsError } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import { statePaths } from '../state/paths.js';
import { readRuntimeStatus } from '../state/runtime-status.js';
import { stopOrphanedServers } from '../supervisor/orphans.js';
import { isAlive, sendSignal, waitForExit } from '../supervisor/process-info.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { configPathOf, printWarning } from './output.js';

/** Time for the proxy to drain on top of one stop timeout, since servers stop in parallel. */
const PROXY_DRAIN_ALLOWANCE_MS = 10_000;

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('Stop the running supervisor, its proxy and every tenant server, and wait until they are gone')
    .action(async (_options: unknown, command: Command) => {
      const configFile = configPathOf(command);
      const paths = statePaths(await resolveStateDirLeniently(configFile));
      const stopTimeoutMs = await stopTimeoutOf(configFile);
      const supervisor = await findRunningSupervisor(paths);
      if (supervisor === undefined) {
        // A supervisor killed with SIGKILL leaves its servers running; stop them too.
        const stopped = await stopOrphanedServers(paths, stopTimeoutMs, silentLogger());
        process.stdout.write(
          stopped.length === 0
            ? 'no supervisor is running\n'
            : `no supervisor is running; stopped ${stopped.length} server(s) left by one that died (pid ${stopped.join(', ')})\n`,
        );
        return;
      }

      const serverPids = ((await readRuntimeStatus(paths.status))?.tenants ?? [])
        .map((tenant) => tenant.pid)
        .filter((pid): pid is number => pid !== null);
      const exitTimeoutMs = stopTimeoutMs + PROXY_DRAIN_ALLOWANCE_MS;
      process.stdout.write(`stopping supervisor (pid ${supervisor.pid})\n`);
      sendSignal(supervisor.pid, 'SIGTERM');
      if (!(await waitForExit(supervisor.pid, exitTimeoutMs))) {
        throw new TenantsError(
          'SUPERVISOR_STOP_TIMEOUT',
          `the supervisor (pid ${supervisor.pid}) did not exit within ${exitTimeoutMs / 1000} s; ` +
            `see ${paths.logs}/supervisor.log, then stop it with "kill -9 ${supervisor.pid}" and run "minio-tenants down" again`,
        );
      }
      const left = serverPids.filter((pid) => isAlive(pid));
      if (left.length > 0) {
        throw new TenantsError(
          'SERVERS_LEFT_RUNNING',
          `the supervisor exited but server pid(s) ${left.join(', ')} still run; see ${paths.logs}/supervisor.log`,
        );
      }
      process.stdout.write('stopped\n');
    });
}

/** `supervisor.stopTimeout` from tenants.yaml, or its default when the file is invalid. */
async function stopTimeoutOf(configFile: string): Promise<number> {
  try {
    return (await loadConfig(configFile)).supervisor.stopTimeoutMs;
  } catch (error) {
    if (error instanceof TenantsError && error.code === 'CONFIG_INVALID') {
      printWarning(`${error.message.split('\n')[0]}; stopping with the default stop timeout`);
      return parseDuration(DEFAULTS.supervisor.stopTimeout) as number;
    }
    throw error;
  }
}
