import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { TenantsError } from '../errors.js';
import { statePaths, type StatePaths } from '../state/paths.js';
import { sendControlRequest } from '../supervisor/control-client.js';
import type { ReloadSummary, TenantStartResult } from '../supervisor/supervisor.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { configPathOf, printJson, printWarning } from './output.js';

export function registerRestart(program: Command): void {
  program
    .command('restart')
    .description("Restart one tenant's server through the running supervisor; also clears the failed state")
    .argument('<name>', 'tenant to restart')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const paths = await runningSupervisorPaths(command);
      const result = await sendControlRequest<TenantStartResult>(paths, `/tenants/${encodeURIComponent(name)}/restart`);
      if (options.json === true) {
        printJson(result);
      } else if (result.ready) {
        process.stdout.write(`restarted ${result.name} (server 127.0.0.1:${result.port})\n`);
      }
      if (!result.ready) {
        throw new TenantsError('RESTART_FAILED', `tenant ${name} did not become ready: ${result.error ?? 'unknown reason'}`);
      }
    });
}

export function registerReload(program: Command): void {
  program
    .command('reload')
    .description('Apply an edited tenants.yaml to the running supervisor: start added tenants, stop removed ones, restart changed ones')
    .option('--json', 'print what changed as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const paths = await runningSupervisorPaths(command);
      const summary = await sendControlRequest<ReloadSummary>(paths, '/reload');
      if (options.json === true) {
        printJson(summary);
        return;
      }
      for (const failure of summary.failed) {
        printWarning(`tenant ${failure.name} did not start: ${failure.error}`);
      }
      for (const [label, names] of [
        ['started', summary.added],
        ['stopped', summary.removed],
        ['restarted', summary.restarted],
        ['updated routing of', summary.updated],
        ['unchanged', summary.unchanged],
      ] as const) {
        if (names.length > 0) {
          process.stdout.write(`${label}: ${names.join(', ')}\n`);
        }
      }
    });
}

async function runningSupervisorPaths(command: Command): Promise<StatePaths> {
  const config = await loadConfig(configPathOf(command));
  const paths = statePaths(config.stateDir);
  if ((await findRunningSupervisor(paths)) === undefined) {
    throw new TenantsError('SUPERVISOR_NOT_RUNNING', `no supervisor is running for ${paths.root}; start one with "minio-tenants up"`);
  }
  return paths;
}
