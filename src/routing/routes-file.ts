import { readFile } from 'node:fs/promises';
import { TenantsError } from '../errors.js';
import { writeFileAtomic } from '../state/atomic-file.js';

/** Lifecycle state of a tenant's server, as `status` shows it and the proxy reads it. */
export type TenantState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export const TENANT_STATES: readonly TenantState[] = ['starting', 'running', 'restarting', 'failed', 'stopped'];

export interface RouteEntry {
  name: string;
  /** Base URL of the tenant's server, such as `http://127.0.0.1:9001`. */
  upstream: string;
  accessKeys: string[];
  state: TenantState;
  /** Host names that route anonymous requests to this tenant. */
  hosts: string[];
}

/**
 * The routing table in `<stateDir>/routes.json`, written by the supervisor and read by
 * the proxy. It never contains a secret key.
 */
export interface RoutesTable {
  version: 1;
  generatedAt: string;
  tenants: RouteEntry[];
}

export const ROUTES_FORMAT_VERSION = 1;

/** Writes the table atomically: a temporary file in the same directory, then rename. */
export async function writeRoutesFile(file: string, tenants: RouteEntry[]): Promise<void> {
  const table: RoutesTable = { version: ROUTES_FORMAT_VERSION, generatedAt: new Date().toISOString(), tenants };
  await writeFileAtomic(file, `${JSON.stringify(table, null, 2)}\n`, 0o644);
}

export async function readRoutesFile(file: string): Promise<RoutesTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new TenantsError('ROUTES_UNREADABLE', `cannot read the routing table ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TenantsError('ROUTES_INVALID', `the routing table ${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return validateRoutesTable(data, file);
}

/** Checks the shape of a parsed routing table and rejects duplicate access keys. */
export function validateRoutesTable(data: unknown, file: string): RoutesTable {
  const fail = (detail: string): never => {
    throw new TenantsError('ROUTES_INVALID', `the routing table ${file} is invalid: ${detail}`);
  };
  if (typeof data !== 'object' || data === null) {
    return fail('expected a JSON object');
  }
  const table = data as Partial<RoutesTable>;
  if (table.version !== ROUTES_FORMAT_VERSION) {
    return fail(`"version" must be ${ROUTES_FORMAT_VERSION}, got ${JSON.stringify(table.version)}`);
  }
  if (!Array.isArray(table.tenants)) {
    return fail('"tenants" must be an array');
  }
  const owners = new Map<string, string>();
  table.tenants.forEach((entry: Partial<RouteEntry>, index) => {
    const where = `tenants[${index}]`;
    if (typeof entry.name !== 'string' || entry.name === '') {
      fail(`${where}.name must be a non-empty string`);
    }
    if (typeof entry.upstream !== 'string' || !/^https?:\/\/[^/]+$/.test(entry.upstream)) {
      fail(`${where}.upstream must be a URL such as http://127.0.0.1:9001, got ${JSON.stringify(entry.upstream)}`);
    }
    if (!TENANT_STATES.includes(entry.state as TenantState)) {
      fail(`${where}.state must be one of ${TENANT_STATES.join(', ')}, got ${JSON.stringify(entry.state)}`);
    }
    if (!Array.isArray(entry.accessKeys) || entry.accessKeys.some((key) => typeof key !== 'string' || key === '')) {
      fail(`${where}.accessKeys must be an array of non-empty strings`);
    }
    if (entry.hosts !== undefined && (!Array.isArray(entry.hosts) || entry.hosts.some((h) => typeof h !== 'string'))) {
      fail(`${where}.hosts must be an array of strings`);
    }
    for (const key of entry.accessKeys ?? []) {
      const owner = owners.get(key);
      if (owner !== undefined) {
        fail(`the access key of ${where} (${entry.name}) is also listed for tenant ${owner}`);
      }
      owners.set(key, entry.name as string);
    }
    entry.hosts ??= [];
  });
  return table as RoutesTable;
}
