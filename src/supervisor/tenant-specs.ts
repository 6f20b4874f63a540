import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { TenantsError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { withChangeLock } from '../state/change-lock.js';
import { generateCredentials, readCredentials, writeCredentials, type Credentials } from '../state/credentials.js';
import type { StatePaths } from '../state/paths.js';
import { effectivePorts } from '../state/ports.js';
import { reserveMissingPorts } from '../state/tenant-store.js';
import type { TenantSpec } from './tenant-runner.js';

/**
 * Joins tenants.yaml, the credential files and the port ledger into one spec per tenant,
 * in file order. A tenant written into tenants.yaml by hand gets ports and generated
 * credentials here, as `add` would give it; `creds <name>` shows them.
 */
export async function loadTenantSpecs(config: Config, paths: StatePaths, logger: Logger): Promise<TenantSpec[]> {
  const ledger = await reserveMissingPorts(config);
  const specs: TenantSpec[] = [];
  for (const tenant of config.tenants) {
    const ports = effectivePorts(config, ledger, tenant.name);
    if (ports === undefined) {
      throw new TenantsError('TENANT_NOT_PROVISIONED', `tenant ${tenant.name} has no reserved port in ${paths.ports}`);
    }
    const credentials = await credentialsOf(paths, tenant.name, logger);
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
  assertUniqueAccessKeys(specs);
  return specs;
}

async function credentialsOf(paths: StatePaths, name: string, logger: Logger): Promise<Credentials> {
  try {
    return await readCredentials(paths, name);
  } catch (error) {
    if (!(error instanceof TenantsError) || error.code !== 'CREDENTIALS_MISSING') {
      throw error;
    }
  }
  return withChangeLock(paths, async () => {
    const existing = await readCredentials(paths, name).catch(() => undefined);
    if (existing !== undefined) {
      return existing;
    }
    const generated = generateCredentials();
    await writeCredentials(paths, name, generated);
    logger.info({ tenant: name }, 'generated credentials for a tenant added to tenants.yaml by hand');
    return generated;
  });
}

/** Routing needs every access key to name one tenant; credential files edited by hand may break that. */
function assertUniqueAccessKeys(specs: TenantSpec[]): void {
  const owners = new Map<string, string>();
  for (const spec of specs) {
    const owner = owners.get(spec.accessKey);
    if (owner !== undefined) {
      throw new TenantsError(
        'DUPLICATE_ACCESS_KEY',
        `tenants ${owner} and ${spec.name} have the same access key, so requests cannot be routed; give one of them new credentials`,
      );
    }
    owners.set(spec.accessKey, spec.name);
  }
}

/** Returns the path of the supervisor's own structured log. */
export function supervisorLogFile(paths: StatePaths): string {
  return join(paths.logs, 'supervisor.log');
}
