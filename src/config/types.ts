/** Launch flavor of the tenants' servers; docs/architecture.md describes the detection. */
export type ServerFlavor = 'auto' | 'legacy' | 'current';

export interface TenantConfig {
  name: string;
  /** Fixed API port from tenants.yaml; the port ledger assigns one when missing. */
  port?: number;
  /** Absolute data directory: the tenant's own `dataDir`, else `<dataDir>/<name>`. */
  dataDir: string;
  /** Host names that route anonymous requests to this tenant. */
  hosts: string[];
}

/** tenants.yaml after validation, with defaults applied and paths made absolute. */
export interface Config {
  /** Absolute path of the configuration file. */
  file: string;
  /** False when the file does not exist yet and every value is a default. */
  exists: boolean;
  stateDir: string;
  dataDir: string;
  server: {
    command: string;
    args: string[];
    env: Record<string, string>;
    flavor: ServerFlavor;
  };
  proxy: {
    /** `host:port` */
    listen: string;
    publicUrl: string;
    /** Proxy processes; `auto` in tenants.yaml is resolved to os.availableParallelism(). 1 runs the proxy in the supervisor. */
    workers: number;
    /** Absolute paths of the PEM certificate and key; the proxy serves HTTPS when set. */
    tls?: { cert: string; key: string };
  };
  ports: { from: number; to: number };
  supervisor: SupervisorSettings;
  logs: {
    /** A server log larger than this is rotated. */
    maxBytes: number;
    /** Rotated files kept per log (`<name>.log.1` … `<name>.log.<keep>`). */
    keep: number;
  };
  /** In file order. */
  tenants: TenantConfig[];
}

/** Timing of readiness, health checks, stops and restarts, in milliseconds. */
export interface SupervisorSettings {
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  healthIntervalMs: number;
  unhealthyAfterMs: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  stableAfterMs: number;
  maxCrashes: number;
  crashWindowMs: number;
}
