import { TenantsError } from '../errors.js';
import { parseListenAddress } from '../config/listen-address.js';
import type { Config } from '../config/types.js';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';
import { readOptional } from './credentials.js';
import type { StatePaths } from './paths.js';

/** Ports reserved for one tenant. `consolePort` serves the embedded console of current MinIO. */
export interface TenantPorts {
  port: number;
  consolePort: number;
}

/**
 * The port ledger in `paths.ports`: the ports that `add` reserved, so a tenant keeps
 * them across restarts. A `port` in tenants.yaml overrides the ledger's API port.
 */
export interface PortLedger {
  version: 1;
  tenants: Record<string, TenantPorts>;
}

export interface PortRange {
  from: number;
  to: number;
}

export const PORT_LEDGER_VERSION = 1;

export function emptyPortLedger(): PortLedger {
  return { version: PORT_LEDGER_VERSION, tenants: {} };
}

/**
 * Picks the lowest port in the range that is not taken and for which `isFree` returns
 * true. When every untaken port fails `isFree`, it falls back to the lowest untaken one,
 * because a port that is busy now may be free when the tenant starts. Returns undefined
 * when every port of the range is taken.
 */
export function choosePort(range: PortRange, taken: ReadonlySet<number>, isFree: (port: number) => boolean = () => true): number | undefined {
  let firstUntaken: number | undefined;
  for (let port = range.from; port <= range.to; port += 1) {
    if (taken.has(port)) {
      continue;
    }
    if (isFree(port)) {
      return port;
    }
    firstUntaken ??= port;
  }
  return firstUntaken;
}

/** Lists the untaken ports of the range in ascending order, at most `limit` of them. */
export function untakenPorts(range: PortRange, taken: ReadonlySet<number>, limit: number): number[] {
  const ports: number[] = [];
  for (let port = range.from; port <= range.to && ports.length < limit; port += 1) {
    if (!taken.has(port)) {
      ports.push(port);
    }
  }
  return ports;
}

/**
 * Collects the ports that a new tenant must not get: every port in the ledger except
 * those of `exceptTenant`, every fixed port in tenants.yaml and the proxy's port.
 */
export function takenPorts(config: Config, ledger: PortLedger, exceptTenant?: string): Set<number> {
  const taken = new Set<number>();
  for (const [name, ports] of Object.entries(ledger.tenants)) {
    if (name !== exceptTenant) {
      taken.add(ports.port);
      taken.add(ports.consolePort);
    }
  }
  for (const tenant of config.tenants) {
    if (tenant.port !== undefined && tenant.name !== exceptTenant) {
      taken.add(tenant.port);
    }
  }
  taken.add(proxyPort(config));
  return taken;
}

/**
 * Returns who already uses `port` as API or console port: "tenant <name>" or "the proxy".
 * Returns undefined when the port is unused or used only by `exceptTenant`.
 */
export function portOwner(config: Config, ledger: PortLedger, port: number, exceptTenant?: string): string | undefined {
  if (port === proxyPort(config)) {
    return 'the proxy';
  }
  const fixed = config.tenants.find((tenant) => tenant.port === port && tenant.name !== exceptTenant);
  if (fixed !== undefined) {
    return `tenant ${fixed.name}`;
  }
  const reserved = Object.entries(ledger.tenants).find(
    ([name, ports]) => name !== exceptTenant && (ports.port === port || ports.consolePort === port),
  );
  return reserved === undefined ? undefined : `tenant ${reserved[0]}`;
}

/** Returns the API and console ports of a tenant. A `port` in tenants.yaml overrides the ledger's. */
export function effectivePorts(config: Config, ledger: PortLedger, name: string): TenantPorts | undefined {
  const reserved = ledger.tenants[name];
  if (reserved === undefined) {
    return undefined;
  }
  const fixed = config.tenants.find((tenant) => tenant.name === name)?.port;
  return { port: fixed ?? reserved.port, consolePort: reserved.consolePort };
}

function proxyPort(config: Config): number {
  return parseListenAddress(config.proxy.listen)?.port ?? 9000;
}

/** Reads the ledger; a missing file is an empty ledger. Throws PORT_LEDGER_INVALID naming the file. */
export async function readPortLedger(paths: StatePaths): Promise<PortLedger> {
  const text = await readOptional(paths.ports);
  if (text === undefined) {
    return emptyPortLedger();
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw ledgerError(paths.ports, 'it is not valid JSON', error);
  }
  return validatePortLedger(data, paths.ports);
}

function validatePortLedger(data: unknown, file: string): PortLedger {
  const ledger = data as Partial<PortLedger> | null;
  if (ledger === null || typeof ledger !== 'object' || ledger.version !== PORT_LEDGER_VERSION) {
    throw ledgerError(file, `expected an object with "version": ${PORT_LEDGER_VERSION}`);
  }
  if (typeof ledger.tenants !== 'object' || ledger.tenants === null) {
    throw ledgerError(file, 'expected "tenants" to be an object');
  }
  for (const [name, ports] of Object.entries(ledger.tenants)) {
    if (!isPort(ports?.port) || !isPort(ports?.consolePort)) {
      throw ledgerError(file, `tenant ${name} needs integer "port" and "consolePort" from 1 to 65535`);
    }
  }
  return ledger as PortLedger;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

function ledgerError(file: string, detail: string, cause?: unknown): TenantsError {
  return new TenantsError(
    'PORT_LEDGER_INVALID',
    `the port ledger ${file} is invalid: ${detail}; fix or delete it (tenants then get new ports)`,
    { cause },
  );
}

/** Writes the ledger atomically, with tenants sorted by name so that diffs stay small. */
export async function writePortLedger(paths: StatePaths, ledger: PortLedger): Promise<void> {
  const sorted: PortLedger = { version: PORT_LEDGER_VERSION, tenants: {} };
  for (const name of Object.keys(ledger.tenants).sort()) {
    sorted.tenants[name] = ledger.tenants[name] as TenantPorts;
  }
  await ensurePrivateDir(paths.root);
  await writeFileAtomic(paths.ports, `${JSON.stringify(sorted, null, 2)}\n`, 0o600);
}
