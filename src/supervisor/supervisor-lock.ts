import { TenantsError } from '../errors.js';
import type { StatePaths } from '../state/paths.js';
import { acquirePidLock, readLockHolder, type LockHolder, type PidLock } from './pid-lock.js';
import { isOurProcess } from './process-info.js';

/** Contents of `<stateDir>/supervisor.json` while a supervisor runs. */
export type SupervisorInfo = LockHolder;

/**
 * Makes this process the one supervisor of the state directory by holding
 * `supervisor.json`. A second `up` fails and names the pid of the running supervisor.
 */
export function acquireSupervisorLock(paths: StatePaths): Promise<PidLock> {
  return acquirePidLock<SupervisorInfo>({
    file: paths.supervisorInfo,
    holder: { pid: process.pid, startedAt: new Date().toISOString() },
    isHolderAlive: isSupervisorAlive,
    onConflict: (holder) =>
      new TenantsError(
        'SUPERVISOR_RUNNING',
        `a supervisor already runs for ${paths.root} (pid ${holder.pid}, started ${holder.startedAt}); ` +
          'use "minio-tenants status" to see it or "minio-tenants down" to stop it',
      ),
  });
}

/** Returns the running supervisor's info, or undefined when none runs (a stale file is ignored). */
export async function findRunningSupervisor(paths: StatePaths): Promise<SupervisorInfo | undefined> {
  const info = await readLockHolder<SupervisorInfo>(paths.supervisorInfo);
  return info !== undefined && (await isSupervisorAlive(info)) ? info : undefined;
}

/**
 * Checks that the pid runs `node …/minio-tenants[.js] … up …`, in the foreground or
 * detached, so that a pid the kernel reused is never taken for a supervisor.
 */
export function isSupervisorAlive(info: { pid: number }): Promise<boolean> {
  return isOurProcess(info.pid, (argv) => argv.includes('up') && argv.some((arg) => /minio-tenants(\.js)?$/.test(arg)));
}
