import type { Command } from 'commander';
import { displayPath, loadConfig } from '../config/load.js';
import { applyToRunningSupervisor } from './live-change.js';
import { statePaths } from '../state/paths.js';
import { removeTenant, type RemovedTenant } from '../state/tenant-store.js';
import { configPathOf } from './output.js';

export function registerRemove(program: Command): void {
  program
    .command('remove')
    .description("Remove a tenant from tenants.yaml and delete its credentials and reserved ports")
    .argument('<name>', 'tenant name as in tenants.yaml')
    .option('--purge', "also delete the tenant's data directory and everything in it (default: keep it)")
    .addHelpText(
      'after',
      '\n--purge deletes only the tenant\'s own data directory. It refuses a directory that is or contains\n' +
        'the directory of tenants.yaml, the state directory, the shared dataDir, the home directory\n' +
        'or another tenant\'s data, and then changes nothing.',
    )
    .action(async (name: string, options: { purge?: boolean }, command: Command) => {
      const removed = await removeTenant(configPathOf(command), name, {
        purge: options.purge === true,
        afterUnregister: async () => {
          const config = await loadConfig(configPathOf(command));
          await applyToRunningSupervisor(statePaths(config.stateDir));
        },
      });
      printRemoved(removed);
    });
}

function printRemoved(removed: RemovedTenant): void {
  const summary = removed.wasConfigured
    ? `Removed tenant ${removed.name} from ${displayPath(removed.configFile)}.`
    : `Removed the left-over state of tenant ${removed.name}, which ${displayPath(removed.configFile)} no longer lists.`;
  const lines = [summary, `deleted credentials in ${removed.tenantStateDir}`];
  if (removed.releasedPorts !== undefined) {
    lines.push(`released ports ${removed.releasedPorts.port} and ${removed.releasedPorts.consolePort}`);
  }
  const dataLines: Record<RemovedTenant['data'], string> = {
    kept: `kept data directory ${removed.dataDir}; delete it with "rm -r ${removed.dataDir}" once nobody needs it (a new tenant of the same name starts on it only with add --reuse-data)`,
    deleted: `deleted data directory ${removed.dataDir}`,
    missing: `data directory ${removed.dataDir} does not exist; nothing to keep or delete`,
  };
  lines.push(dataLines[removed.data], '');
  process.stdout.write(lines.join('\n'));
}
