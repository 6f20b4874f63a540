import type { ReloadSummary } from '../supervisor/supervisor.js';
import { sendControlRequest } from '../supervisor/control-client.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import type { StatePaths } from './paths.js';

/**
 * Tells a running supervisor that tenants.yaml changed, so that it starts an added tenant
 * or stops a removed one without touching the others. Returns undefined when no
 * supervisor runs; the change then takes effect at the next `up`.
 */
export async function notifySupervisor(paths: StatePaths): Promise<ReloadSummary | undefined> {
  if ((await findRunningSupervisor(paths)) === undefined) {
    return undefined;
  }
  return sendControlRequest<ReloadSummary>(paths, '/reload');
}
