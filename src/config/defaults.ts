import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { derivePublicUrl, parseListenAddress } from './listen-address.js';
import type { RawConfig, SupervisorDurationKey } from './schema.js';
import { parseDuration, parseSize } from './units.js';
import type { Config, SupervisorSettings, TenantConfig } from './types.js';

/** Default values; docs/configuration.md and tenants.yaml.example list the same ones. */
export const DEFAULTS = {
  stateDir: '.minio-tenants',
  dataDir: 'data',
  serverCommand: 'minio',
  flavor: 'auto',
  listen: '127.0.0.1:9000',
  proxyWorkers: 1,
  portsFrom: 9001,
  portsTo: 9999,
  supervisor: {
    readyTimeout: '30s',
    stopTimeout: '10s',
    healthInterval: '5s',
    unhealthyAfter: '15s',
    restartDelay: '250ms',
    maxRestartDelay: '30s',
    stableAfter: '60s',
    maxCrashes: 5,
    crashWindow: '60s',
  },
  logs: { maxSize: '10MiB', keep: 3 },
} as const;

/**
 * Applies defaults to a validated tenants.yaml and makes paths absolute. Relative paths
 * are relative to the directory of the configuration file, not to the working directory.
 */
export function applyDefaults(raw: RawConfig, file: string, exists: boolean): Config {
  const base = dirname(file);
  const dataDir = resolve(base, raw.dataDir ?? DEFAULTS.dataDir);
  const listen = raw.proxy?.listen ?? DEFAULTS.listen;
  // validate.ts has rejected a listen address that does not parse.
  const listenAddress = parseListenAddress(listen) ?? { host: '127.0.0.1', port: 9000 };

  const tenants: TenantConfig[] = Object.entries(raw.tenants ?? {}).map(([name, tenant]) => ({
    name,
    ...(tenant?.port === undefined ? {} : { port: tenant.port }),
    dataDir: tenant?.dataDir === undefined ? join(dataDir, name) : resolve(base, tenant.dataDir),
    hosts: tenant?.hosts ?? [],
  }));

  return {
    file,
    exists,
    stateDir: resolve(base, raw.stateDir ?? DEFAULTS.stateDir),
    dataDir,
    server: {
      command: resolveCommand(base, raw.server?.command ?? DEFAULTS.serverCommand),
      args: raw.server?.args ?? [],
      env: raw.server?.env ?? {},
      flavor: raw.server?.flavor ?? DEFAULTS.flavor,
    },
    proxy: {
      listen,
      publicUrl: (raw.proxy?.publicUrl ?? derivePublicUrl(listenAddress)).replace(/\/$/, ''),
      workers: proxyWorkers(raw.proxy?.workers ?? DEFAULTS.proxyWorkers),
      ...proxyTls(raw, base),
    },
    ports: { from: raw.ports?.from ?? DEFAULTS.portsFrom, to: raw.ports?.to ?? DEFAULTS.portsTo },
    supervisor: supervisorSettings(raw),
    logs: {
      maxBytes: parseSize(raw.logs?.maxSize ?? DEFAULTS.logs.maxSize) as number,
      keep: raw.logs?.keep ?? DEFAULTS.logs.keep,
    },
    tenants,
  };
}

/** Upper bound of `proxy.workers`, also enforced by startProxyCluster(). */
export const MAX_PROXY_WORKERS = 64;

/** Resolves `auto` to the cores this process may use, capped at MAX_PROXY_WORKERS. */
export function proxyWorkers(value: number | 'auto'): number {
  return value === 'auto' ? Math.min(MAX_PROXY_WORKERS, availableParallelism()) : value;
}

/** Resolves the TLS paths against the config directory; no TLS unless both are set. */
function proxyTls(raw: RawConfig, base: string): { tls?: { cert: string; key: string } } {
  const tls = raw.proxy?.tls;
  if (tls === undefined || tls === null) {
    return {};
  }
  return { tls: { cert: resolve(base, tls.cert), key: resolve(base, tls.key) } };
}

/** The schema has checked every duration's format, so parsing cannot fail here. */
function supervisorSettings(raw: RawConfig): SupervisorSettings {
  const ms = (key: SupervisorDurationKey): number =>
    parseDuration(raw.supervisor?.[key] ?? DEFAULTS.supervisor[key]) as number;
  return {
    readyTimeoutMs: ms('readyTimeout'),
    stopTimeoutMs: ms('stopTimeout'),
    healthIntervalMs: ms('healthInterval'),
    unhealthyAfterMs: ms('unhealthyAfter'),
    restartDelayMs: ms('restartDelay'),
    maxRestartDelayMs: ms('maxRestartDelay'),
    stableAfterMs: ms('stableAfter'),
    maxCrashes: raw.supervisor?.maxCrashes ?? DEFAULTS.supervisor.maxCrashes,
    crashWindowMs: ms('crashWindow'),
  };
}

/** Resolves a relative command path against the config directory, and leaves a bare name for the PATH lookup. */
function resolveCommand(base: string, command: string): string {
  if (isAbsolute(command) || !command.includes('/')) {
    return command;
  }
  return resolve(base, command);
}
