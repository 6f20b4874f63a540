import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { TenantsError } from '../errors.js';
import { readCredentials } from '../state/credentials.js';
import type { StatePaths } from '../state/paths.js';
import { effectivePorts, readPortLedger } from '../state/ports.js';
import type { TenantSpec } from './tenant-runner.js';

/**
 * Joins tenants.yaml, the credential files and the port ledger into one spec per tenant,
 * in file order. A tenant written into tenants.yaml by hand has neither credentials nor
 * ports yet; it is reported so that the user runs `add` for it.
 */
export async function loadTenantSpecs(config: Config, paths: StatePaths): Promise<TenantSpec[]> {
  const ledger = await readPortLedger(paths);
  const specs: TenantSpec[] = [];
  for (const tenant of config.tenants) {
    const ports = effectivePorts(config, ledger, tenant.name);
    if (ports === undefined) {
      throw new TenantsError(
        'TENANT_NOT_PROVISIONED',
        `tenant ${tenant.name} in ${config.file} has no reserved port in ${paths.ports}; ` +
          `remove it from the file and run "minio-tenants add ${tenant.name}" to create its credentials and ports`,
      );
    }
    const credentials = await readCredentials(paths, tenant.name);
    specs.push({
      name: tenant.name,
      port: ports.port,
      consolePort: ports.consolePort,
      dataDir: tenant.dataDir,
      configDir: paths.configDir(tenant.name),
      logFile: paths.log(tenant.name),
      accessKey: credentials.accessKey,
      secretKey: credentials.secretKey,
      hosts: tenant.hosts,
    });
  }
  return specs;
}

/** The supervisor's own structured log. */
export function supervisorLogFile(paths: StatePaths): string {
  return join(paths.logs, 'supervisor.log');
}
