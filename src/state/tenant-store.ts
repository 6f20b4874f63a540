import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Document } from 'yaml';
import { errnoCode, TenantsError } from '../errors.js';
import { addTenantToDocument, newConfigDocument, reattachFollowingComments, removeTenantFromDocument } from '../config/edit.js';
import { loadConfigDocument, type LoadedConfig } from '../config/load.js';
import { assertTenantName } from '../config/tenant-name.js';
import type { Config, TenantConfig } from '../config/types.js';
import { writeFileAtomic } from './atomic-file.js';
import { withChangeLock } from './change-lock.js';
import {
  assertCredentials,
  deleteTenantState,
  generateCredentials,
  readCredentials,
  readOptional,
  writeCredentials,
  type Credentials,
} from './credentials.js';
import { statePaths, type StatePaths } from './paths.js';
import { findBusyPorts } from './port-probe.js';
import {
  choosePort,
  portOwner,
  readPortLedger,
  takenPorts,
  untakenPorts,
  writePortLedger,
  type PortLedger,
  type TenantPorts,
} from './ports.js';
import { purgeProblem } from './purge-guard.js';

export interface AddTenantRequest {
  name: string;
  /** Fixed API port, written to tenants.yaml. */
  port?: number;
  /** Given keys; generated when undefined. */
  credentials?: Credentials;
  /** Lets the tenant start on a data directory that already contains data. */
  reuseData?: boolean;
}

export interface AddedTenant extends Credentials, TenantPorts {
  name: string;
  endpoint: string;
  configFile: string;
  /** Absolute state directory of the configuration. */
  stateDir: string;
  /** True when tenants.yaml did not exist and was created. */
  createdConfig: boolean;
}

export interface TenantCredentials extends Credentials {
  name: string;
  /** The proxy's public URL, which clients use for every tenant. */
  endpoint: string;
}

export interface RemovedTenant {
  name: string;
  configFile: string;
  /** Absolute state directory of the configuration. */
  stateDir: string;
  /** The deleted directory with the tenant's credentials and server configuration. */
  tenantStateDir: string;
  releasedPorts: TenantPorts | undefined;
  dataDir: string;
  /** `kept` unless --purge deleted it; `missing` when it never existed. */
  data: 'kept' | 'deleted' | 'missing';
  /** False for a tenant that was no longer in tenants.yaml and had only left-over state. */
  wasConfigured: boolean;
}

/** At most this many candidate ports are probed with a bind; the rest count as free. */
const PORT_PROBE_LIMIT = 64;

/**
 * Adds a tenant: checks the request, then, holding the change lock, reserves ports and
 * writes credentials, the port ledger and tenants.yaml, in that order. A crash before the
 * last write leaves no tenant in tenants.yaml, only unused state that the next `add` of
 * the same name overwrites. A failed write undoes the earlier ones.
 */
export async function addTenant(configFile: string, request: AddTenantRequest): Promise<AddedTenant> {
  assertTenantName(request.name);
  if (request.credentials !== undefined) {
    assertCredentials(request.credentials);
  }
  if (request.port !== undefined) {
    assertPortNumber(request.port);
  }
  const paths = await pathsOf(configFile);

  return withChangeLock(paths, async () => {
    const loaded = await loadConfigDocument(configFile);
    const { config } = loaded;
    assertNewTenant(config, request.name);
    if (request.reuseData !== true) {
      await assertDataDirEmpty(join(config.dataDir, request.name), request.name);
    }
    const credentials = await chooseCredentials(paths, config, request);
    const ledger = await readPortLedger(paths);
    const ports = await reservePorts(config, ledger, request.name, request.port);

    const document = prepareDocument(loaded) ?? newConfigDocument();
    addTenantToDocument(document, request.name, { port: request.port });
    await writeAll(paths, config.file, { name: request.name, credentials, ledger, document });
    return {
      name: request.name,
      ...credentials,
      ...ports,
      endpoint: config.proxy.publicUrl,
      configFile: config.file,
      stateDir: config.stateDir,
      createdConfig: !config.exists,
    };
  });
}

/**
 * Removes a tenant from tenants.yaml, then deletes its credentials and ledger entry, calls
 * `afterUnregister`, and with `purge` deletes its data directory. tenants.yaml goes first,
 * so a crash leaves unused state behind, never a configured tenant without credentials.
 */
export async function removeTenant(
  configFile: string,
  name: string,
  options: { purge: boolean; afterUnregister?: () => Promise<void> },
): Promise<RemovedTenant> {
  const paths = await pathsOf(configFile);

  const removed = await withChangeLock(paths, async () => {
    const loaded = await loadConfigDocument(configFile);
    const { config } = loaded;
    const ledger = await readPortLedger(paths);
    const configured = config.tenants.find((candidate) => candidate.name === name);
    // A tenant deleted from tenants.yaml by hand keeps its credentials and ports, so that
    // restoring its lines brings it back unchanged. remove deletes them and keeps its data.
    const leftover = configured === undefined && (ledger.tenants[name] !== undefined || (await readOptional(paths.credentials(name))) !== undefined);
    if (configured === undefined && !leftover) {
      throw unknownTenantError(config, name);
    }
    const tenant = configured ?? { name, dataDir: join(config.dataDir, name), hosts: [] };
    if (options.purge) {
      assertPurgeAllowed(config, tenant);
    }

    if (configured !== undefined) {
      const document = prepareDocument(loaded);
      if (document === undefined || !removeTenantFromDocument(document, name)) {
        throw unknownTenantError(config, name);
      }
      await writeConfigFile(config.file, document);
    }

    const releasedPorts = ledger.tenants[name];
    if (releasedPorts !== undefined) {
      delete ledger.tenants[name];
      await writePortLedger(paths, ledger);
    }
    await deleteTenantState(paths, name);

    return {
      name,
      configFile: config.file,
      stateDir: config.stateDir,
      tenantStateDir: paths.tenantDir(name),
      releasedPorts,
      dataDir: tenant.dataDir,
      wasConfigured: configured !== undefined,
    };
  });

  // A running supervisor stops the tenant's server here, outside the change lock that its
  // reload takes too, and before the data directory is deleted under the server.
  await options.afterUnregister?.();
  return { ...removed, data: await removeDataDir(removed.dataDir, options.purge) };
}

/** Returns a configured tenant's endpoint and keys. Throws UNKNOWN_TENANT listing the known tenants. */
export async function readTenantCredentials(configFile: string, name: string): Promise<TenantCredentials> {
  const { config } = await loadConfigDocument(configFile);
  findTenant(config, name);
  const credentials = await readCredentials(statePaths(config.stateDir), name);
  return { name, endpoint: config.proxy.publicUrl, ...credentials };
}

/**
 * Reserves ports for every configured tenant that has none in the ledger yet (a tenant
 * written into tenants.yaml by hand), holding the change lock. Returns the ledger.
 */
export async function reserveMissingPorts(config: Config): Promise<PortLedger> {
  const paths = statePaths(config.stateDir);
  return withChangeLock(paths, async () => {
    const ledger = await readPortLedger(paths);
    const missing = config.tenants.filter((tenant) => ledger.tenants[tenant.name] === undefined);
    if (missing.length === 0) {
      return ledger;
    }
    for (const tenant of missing) {
      ledger.tenants[tenant.name] = await reservePorts(config, ledger, tenant.name, tenant.port);
    }
    await writePortLedger(paths, ledger);
    return ledger;
  });
}

/** Finds a configured tenant by name. Throws UNKNOWN_TENANT listing the known tenants. */
export function findTenant(config: Config, name: string): TenantConfig {
  const tenant = config.tenants.find((candidate) => candidate.name === name);
  if (tenant === undefined) {
    throw unknownTenantError(config, name);
  }
  return tenant;
}

function unknownTenantError(config: Config, name: string): TenantsError {
  const known = config.tenants.map((tenant) => tenant.name);
  const hint = known.length === 0 ? 'it has no tenants yet; add one with `minio-tenants add <name>`' : `known tenants: ${known.join(', ')}`;
  return new TenantsError('UNKNOWN_TENANT', `unknown tenant ${JSON.stringify(name)} in ${config.file}; ${hint}`);
}

/** Reads the configuration once before locking, to find the state directory that holds the lock. */
async function pathsOf(configFile: string): Promise<StatePaths> {
  const { config } = await loadConfigDocument(configFile);
  return statePaths(config.stateDir);
}

function assertPortNumber(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TenantsError('INVALID_PORT', `invalid port ${port}; expected an integer from 1 to 65535`);
  }
}

function assertNewTenant(config: Config, name: string): void {
  if (config.tenants.some((tenant) => tenant.name === name)) {
    throw new TenantsError(
      'TENANT_EXISTS',
      `tenant ${name} already exists in ${config.file}; choose another name, or run \`minio-tenants creds ${name}\` to see its keys`,
    );
  }
}

/**
 * Returns the requested keys, or generated ones. Rejects an access key that another
 * tenant has, because the proxy routes a request to the tenant that owns its access key.
 */
async function chooseCredentials(paths: StatePaths, config: Config, request: AddTenantRequest): Promise<Credentials> {
  const owners = await accessKeyOwners(paths, config);
  if (request.credentials === undefined) {
    let generated = generateCredentials();
    while (owners.has(generated.accessKey)) {
      generated = generateCredentials();
    }
    return generated;
  }

  const owner = owners.get(request.credentials.accessKey);
  if (owner !== undefined) {
    throw new TenantsError(
      'ACCESS_KEY_TAKEN',
      `access key ${request.credentials.accessKey} already belongs to tenant ${owner}; the proxy routes by access key, so each tenant needs its own`,
    );
  }
  return request.credentials;
}

/** Maps each configured tenant's access key to the tenant; tenants without readable credentials are skipped. */
async function accessKeyOwners(paths: StatePaths, config: Config): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const tenant of config.tenants) {
    try {
      const { accessKey } = await readCredentials(paths, tenant.name);
      owners.set(accessKey, tenant.name);
    } catch (error) {
      if (!(error instanceof TenantsError)) {
        throw error;
      }
    }
  }
  return owners;
}

/**
 * Picks an API port (unless fixed) and a console port, preferring ports that can be
 * bound on 127.0.0.1 now. Records them in `ledger` (in memory).
 */
async function reservePorts(config: Config, ledger: PortLedger, name: string, fixedPort: number | undefined): Promise<TenantPorts> {
  // An entry under this name is left over from a crashed `add`; it is replaced.
  delete ledger.tenants[name];
  const taken = takenPorts(config, ledger, name);
  if (fixedPort !== undefined) {
    const owner = portOwner(config, ledger, fixedPort, name);
    if (owner !== undefined) {
      throw new TenantsError('PORT_TAKEN', `port ${fixedPort} is already used by ${owner}; choose another port or omit --port`);
    }
    taken.add(fixedPort);
  }

  const candidates = untakenPorts(config.ports, taken, PORT_PROBE_LIMIT);
  const busy = await findBusyPorts(candidates, fixedPort === undefined ? 2 : 1);
  const isFree = (port: number): boolean => !busy.has(port);
  const port = fixedPort ?? choosePort(config.ports, taken, isFree);
  if (port !== undefined) {
    taken.add(port);
  }
  const consolePort = choosePort(config.ports, taken, isFree);
  if (port === undefined || consolePort === undefined) {
    throw new TenantsError(
      'PORTS_EXHAUSTED',
      `no unused port left in ports ${config.ports.from}-${config.ports.to} for tenant ${name}; widen ports.from and ports.to in ${config.file}`,
    );
  }

  ledger.tenants[name] = { port, consolePort };
  return { port, consolePort };
}

function prepareDocument(loaded: LoadedConfig): Document | undefined {
  if (loaded.document !== undefined && loaded.text !== undefined) {
    reattachFollowingComments(loaded.document, loaded.text);
  }
  return loaded.document;
}

interface PendingAdd {
  name: string;
  credentials: Credentials;
  ledger: PortLedger;
  document: Document;
}

/** Writes credentials, ledger and tenants.yaml in that order; on failure restores what it wrote. */
async function writeAll(paths: StatePaths, configFile: string, pending: PendingAdd): Promise<void> {
  const tenantDirExisted = await exists(paths.tenantDir(pending.name));
  const previousCredentials = await readOptional(paths.credentials(pending.name));
  const previousLedger = await readOptional(paths.ports);
  const undo: (() => Promise<void>)[] = [];

  try {
    await writeCredentials(paths, pending.name, pending.credentials);
    undo.push(() => restoreFile(paths.credentials(pending.name), previousCredentials, tenantDirExisted ? undefined : paths.tenantDir(pending.name)));
    await writePortLedger(paths, pending.ledger);
    undo.push(() => restoreFile(paths.ports, previousLedger));
    await writeConfigFile(configFile, pending.document);
  } catch (error) {
    for (const step of undo.reverse()) {
      await step().catch(() => undefined);
    }
    throw error;
  }
}

async function restoreFile(file: string, previous: string | undefined, createdDir?: string): Promise<void> {
  if (createdDir !== undefined) {
    await rm(createdDir, { recursive: true, force: true });
  } else if (previous === undefined) {
    await rm(file, { force: true });
  } else {
    await writeFileAtomic(file, previous, 0o600);
  }
}

/**
 * Writes tenants.yaml atomically, keeping the mode of an existing file (0644 for a new
 * one). A symbolic link is followed, so the rename replaces its target and not the link.
 */
async function writeConfigFile(file: string, document: Document): Promise<void> {
  try {
    const target = await realpath(file).catch(() => file);
    const mode = await stat(target).then(
      (stats) => stats.mode & 0o777,
      () => 0o644,
    );
    await writeFileAtomic(target, String(document), mode);
  } catch (error) {
    throw new TenantsError('CONFIG_WRITE_FAILED', `cannot write ${file}: ${(error as Error).message}; check that its directory exists and is writable`, {
      cause: error,
    });
  }
}

function assertPurgeAllowed(config: Config, tenant: TenantConfig): void {
  const problem = purgeProblem(tenant.dataDir, {
    configDir: dirname(config.file),
    stateDir: config.stateDir,
    dataDir: config.dataDir,
    homeDir: homedir(),
    otherTenantDataDirs: config.tenants.filter((other) => other.name !== tenant.name).map((other) => other.dataDir),
  });
  if (problem !== undefined) {
    throw new TenantsError(
      'PURGE_REJECTED',
      `not deleting the data directory ${tenant.dataDir} of tenant ${tenant.name}: ${problem}; nothing was changed. ` +
        'Fix its dataDir in tenants.yaml, or run remove without --purge and delete the data yourself',
    );
  }
}

async function removeDataDir(dataDir: string, purge: boolean): Promise<RemovedTenant['data']> {
  if (!(await exists(dataDir))) {
    return 'missing';
  }
  if (!purge) {
    return 'kept';
  }
  await rm(dataDir, { recursive: true, force: true });
  return 'deleted';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return false;
    }
    throw error;
  }
}

/**
 * Moves a tenant to new free ports after another program took its API or console port,
 * and records them in the ledger. Returns the new ports.
 */
export async function reassignPorts(config: Config, name: string): Promise<TenantPorts> {
  const paths = statePaths(config.stateDir);
  return withChangeLock(paths, async () => {
    const ledger = await readPortLedger(paths);
    const ports = await reservePorts(config, ledger, name, undefined);
    await writePortLedger(paths, ledger);
    return ports;
  });
}

/**
 * Rejects a data directory that already contains data: it most likely belongs to a removed
 * tenant of the same name, and a new tenant with other credentials must not inherit its
 * objects by accident.
 */
async function assertDataDirEmpty(dataDir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return;
    }
    throw error;
  }
  if (entries.length > 0) {
    throw new TenantsError(
      'DATA_DIR_NOT_EMPTY',
      `the data directory ${dataDir} already contains data, probably of a removed tenant named ${name}; ` +
        `delete it first (rm -r ${dataDir}), or pass --reuse-data to give the new tenant that data`,
    );
  }
}
