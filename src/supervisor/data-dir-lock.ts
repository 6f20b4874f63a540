import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TenantsError } from '../errors.js';
import { acquirePidLock, type LockHolder, type PidLock } from './pid-lock.js';
import { isSupervisorAlive } from './supervisor-lock.js';

/** Recorded in `<dataDir>.minio-tenants.lock` by the supervisor that runs a server on the data dir. */
export interface DataDirHolder extends LockHolder {
  tenant: string;
  stateDir: string;
}

/**
 * Locks a tenant's data directory for this supervisor, so that two supervisors (two state
 * directories that name the same data directory) never run two servers on it. The lock
 * file sits beside the data directory, not in it, because MinIO treats every entry of its
 * data directory as a bucket.
 */
export async function acquireDataDirLock(dataDir: string, tenant: string, stateDir: string): Promise<PidLock> {
  await mkdir(dirname(dataDir), { recursive: true });
  return acquirePidLock<DataDirHolder>({
    file: `${dataDir}.minio-tenants.lock`,
    holder: { pid: process.pid, startedAt: new Date().toISOString(), tenant, stateDir },
    isHolderAlive: isSupervisorAlive,
    onConflict: (holder) =>
      new TenantsError(
        'DATA_DIR_LOCKED',
        `the data directory ${dataDir} is in use by tenant ${holder.tenant} of the supervisor with pid ${holder.pid} ` +
          `(state directory ${holder.stateDir}); give tenant ${tenant} its own dataDir in tenants.yaml`,
      ),
  });
}
