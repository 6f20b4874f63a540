import { TenantsError } from '../errors.js';
import { notifySupervisor } from '../state/notify-supervisor.js';
import type { StatePaths } from '../state/paths.js';
import { printWarning } from './output.js';

/**
 * Tells a running supervisor about a change that `add` or `remove` already saved. A failure
 * here does not undo the change, so it is a warning with the command that applies it later.
 */
export async function applyToRunningSupervisor(paths: StatePaths): Promise<void> {
  try {
    const summary = await notifySupervisor(paths);
    if (summary !== undefined) {
      const failed = new Set(summary.failed.map((failure) => failure.name));
      const started = summary.added.filter((name) => !failed.has(name));
      const parts = [
        started.length > 0 ? `started ${started.join(', ')}` : '',
        summary.removed.length > 0 ? `stopped ${summary.removed.join(', ')}` : '',
        summary.restarted.length > 0 ? `restarted ${summary.restarted.join(', ')}` : '',
      ].filter((part) => part !== '');
      process.stderr.write(`running supervisor: ${parts.join('; ') || 'nothing to change'}\n`);
      for (const failure of summary.failed) {
        printWarning(`tenant ${failure.name} did not start: ${failure.error}; fix the cause, then run "minio-tenants restart ${failure.name}"`);
      }
    }
  } catch (error) {
    if (!(error instanceof TenantsError)) {
      throw error;
    }
    printWarning(`the change is saved, but the running supervisor did not apply it: ${error.message}; run "minio-tenants reload"`);
  }
}
