import type { StatePaths } from './paths.js';

export interface TenantChange {
  kind: 'added' | 'removed';
  name: string;
}

/**
 * Tells a running supervisor that a tenant was added or removed.
 * TODO: not implemented yet, so a running supervisor keeps serving a removed tenant and
 * ignores an added one until it is restarted with `minio-tenants up`.
 */
export async function notifySupervisor(paths: StatePaths, change: TenantChange): Promise<void> {
  void paths;
  void change;
}
