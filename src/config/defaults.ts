import { dirname, isAbsolute, join, resolve } from 'node:path';
import { derivePublicUrl, parseListenAddress } from './listen-address.js';
import type { RawConfig } from './schema.js';
import type { Config, TenantConfig } from './types.js';

/** Default values; docs/configuration.md and tenants.yaml.example list the same ones. */
export const DEFAULTS = {
  stateDir: '.minio-tenants',
  dataDir: 'data',
  serverCommand: 'minio',
  flavor: 'auto',
  listen: '127.0.0.1:9000',
  portsFrom: 9001,
  portsTo: 9999,
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
    },
    ports: { from: raw.ports?.from ?? DEFAULTS.portsFrom, to: raw.ports?.to ?? DEFAULTS.portsTo },
    tenants,
  };
}

/** Resolves a relative command path against the config directory, and leaves a bare name for the PATH lookup. */
function resolveCommand(base: string, command: string): string {
  if (isAbsolute(command) || !command.includes('/')) {
    return command;
  }
  return resolve(base, command);
}
