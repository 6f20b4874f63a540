import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { TenantsError } from '../errors.js';
import { statePaths } from '../state/paths.js';
import { readRuntimeStatus } from '../state/runtime-status.js';
import { isAlive, sendSignal, waitForExit } from '../supervisor/process-info.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { configPathOf } from './output.js';

/** Time for the proxy to drain on top of one stop timeout, since servers stop in parallel. */
const PROXY_DRAIN_ALLOWANCE_MS = 10_000;

export function registerDown(program: Command): void {
  program
    .command('down')
    .description('Stop the running supervisor, its proxy and every tenant server, and wait until they are gone')
    .action(async (_options: unknown, command: Command) => {
      const config = await loadConfig(configPathOf(command));
      const paths = statePaths(config.stateDir);
      const supervisor = await findRunningSupervisor(paths);
      if (supervisor === undefined) {
        process.stdout.write('no supervisor is running\n');
        return;
      }

      const serverPids = ((await readRuntimeStatus(paths.status))?.tenants ?? [])
        .map((tenant) => tenant.pid)
        .filter((pid): pid is number => pid !== null);
      const exitTimeoutMs = config.supervisor.stopTimeoutMs + PROXY_DRAIN_ALLOWANCE_MS;
      process.stdout.write(`stopping supervisor (pid ${supervisor.pid})\n`);
      sendSignal(supervisor.pid, 'SIGTERM');
      if (!(await waitForExit(supervisor.pid, exitTimeoutMs))) {
        throw new TenantsError(
          'SUPERVISOR_STOP_TIMEOUT',
          `the supervisor (pid ${supervisor.pid}) did not exit within ${exitTimeoutMs / 1000} s; ` +
            `see ${paths.logs}/supervisor.log, then stop it with "kill -9 ${supervisor.pid}"`,
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
