import { mkdir } from 'node:fs/promises';
import type { Config } from '../config/types.js';
import { TenantsError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { writeRoutesFile, type RouteEntry } from '../routing/routes-file.js';
import type { StatePaths } from '../state/paths.js';
import { writeRuntimeStatus, type RuntimeStatus } from '../state/runtime-status.js';
import { reassignPorts } from '../state/tenant-store.js';
import { CoalescingWriter } from './coalescing-writer.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import type { Engine } from './engine.js';
import { listProcesses, servesDataDir, type ServerProcessInfo } from './orphans.js';
import type { PidLock } from './pid-lock.js';
import { isPortFree } from './port-check.js';
import { isAlive } from './process-info.js';
import { restartPolicyOf } from './restart-policy.js';
import type { SpawnServer } from './spawn-server.js';
import { TenantRunner, type TenantSpec } from './tenant-runner.js';

export interface SupervisorOptions {
  config: Config;
  paths: StatePaths;
  engine: Engine;
  tenants: TenantSpec[];
  spawn: SpawnServer;
  logger: Logger;
  /** How many servers start at once; the rest wait for a slot. */
  startConcurrency?: number;
}

export interface TenantStartResult {
  name: string;
  ready: boolean;
  port: number;
  /** The port the tenant had before this start, when another program held it and it moved. */
  movedFromPort: number | null;
  error: string | null;
}

/** Names of the tenants that a reload added, removed, restarted or left running. */
export interface ReloadSummary {
  added: string[];
  removed: string[];
  restarted: string[];
  /** Tenants whose host names changed: the routing table follows, and their servers keep running. */
  updated: string[];
  unchanged: string[];
  /** Added or restarted tenants that did not become ready, with the reason. */
  failed: Array<{ name: string; error: string }>;
}

interface ManagedTenant {
  runner: TenantRunner;
  dataDirLock: PidLock | undefined;
}

/** A /proc scan is shared by launches within this window, so 100 servers starting at once scan once. */
const PROCESS_SCAN_REUSE_MS = 1_000;

/**
 * Owns the tenant runners and keeps `status.json` and `routes.json` in step with their
 * states. One instance per state directory, guarded by the supervisor lock. Changes to
 * one tenant (add, remove, restart, a new port) never stop or pause another.
 */
export class Supervisor {
  private config: Config;
  private readonly tenants = new Map<string, ManagedTenant>();
  private readonly writer: CoalescingWriter;
  private readonly startedAt = new Date();
  private processScan: { atMs: number; result: Promise<ServerProcessInfo[]> } | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.config = options.config;
    this.writer = new CoalescingWriter(
      () => this.writeState(),
      (error) => options.logger.error({ err: error }, 'writing status or routes failed'),
    );
    for (const spec of options.tenants) {
      this.tenants.set(spec.name, { runner: this.createRunner(spec), dataDirLock: undefined });
    }
  }

  /**
   * Starts every tenant, at most `startConcurrency` at a time, and calls `onSettled` as each
   * becomes ready or fails. Resolves when all have settled.
   */
  async start(onSettled: (result: TenantStartResult) => void = () => {}): Promise<TenantStartResult[]> {
    await mkdir(this.options.paths.logs, { recursive: true, mode: 0o700 });
    await this.writeState();

    const queue = [...this.tenants.values()];
    const results: TenantStartResult[] = [];
    const worker = async (): Promise<void> => {
      for (let tenant = queue.shift(); tenant !== undefined; tenant = queue.shift()) {
        const result = await this.startTenant(tenant);
        results.push(result);
        onSettled(result);
      }
    };
    const concurrency = Math.max(1, this.options.startConcurrency ?? 16);
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    await this.writer.flush();
    return results;
  }

  /** Stops every server in parallel and records them as stopped. */
  async stop(): Promise<void> {
    this.options.logger.info({ tenants: this.tenants.size }, 'stopping all servers');
    await Promise.all([...this.tenants.values()].map((tenant) => this.stopTenant(tenant)));
    this.writer.schedule();
    await this.writer.flush();
    this.options.logger.info({}, 'all servers stopped');
  }

  /** Restarts one tenant, also one in state `failed`. Throws UNKNOWN_TENANT for a name it does not run. */
  async restartTenant(name: string): Promise<TenantStartResult> {
    const tenant = this.tenants.get(name);
    if (tenant === undefined) {
      throw new TenantsError('UNKNOWN_TENANT', `the supervisor runs no tenant named ${JSON.stringify(name)}; known: ${[...this.tenants.keys()].join(', ') || 'none'}`);
    }
    this.options.logger.info({ tenant: name }, 'restart requested');
    await this.stopTenant(tenant);
    return this.startTenant(tenant);
  }

  /**
   * Applies a new tenant list: starts added tenants, stops removed ones and restarts those
   * whose port, data directory or credentials changed. Other tenants keep running untouched.
   */
  async apply(config: Config, specs: TenantSpec[]): Promise<ReloadSummary> {
    this.config = config;
    const summary: ReloadSummary = { added: [], removed: [], restarted: [], updated: [], unchanged: [], failed: [] };
    const requested = new Map(specs.map((spec) => [spec.name, spec]));
    const work: Array<Promise<unknown>> = [];

    for (const [name, tenant] of this.tenants) {
      if (!requested.has(name)) {
        summary.removed.push(name);
        this.tenants.delete(name);
        work.push(this.stopTenant(tenant));
      }
    }
    for (const spec of specs) {
      const current = this.tenants.get(spec.name);
      if (current === undefined) {
        const tenant = { runner: this.createRunner(spec), dataDirLock: undefined };
        this.tenants.set(spec.name, tenant);
        summary.added.push(spec.name);
        work.push(this.startTenant(tenant));
      } else if (needsRestart(current.runner.spec, spec)) {
        summary.restarted.push(spec.name);
        work.push(this.stopTenant(current).then(() => {
          current.runner.spec = spec;
          return this.startTenant(current);
        }));
      } else if (current.runner.spec.hosts.join(',') !== spec.hosts.join(',')) {
        current.runner.spec = { ...current.runner.spec, hosts: spec.hosts };
        summary.updated.push(spec.name);
      } else {
        summary.unchanged.push(spec.name);
      }
    }

    this.options.logger.info(summary, 'configuration reloaded');
    this.writer.schedule();
    await Promise.all(work);
    for (const name of [...summary.added, ...summary.restarted]) {
      const runner = this.tenants.get(name)?.runner;
      if (runner?.state === 'failed') {
        summary.failed.push({ name, error: runner.error ?? 'unknown reason' });
      }
    }
    await this.writer.flush();
    return summary;
  }

  tenantNames(): string[] {
    return [...this.tenants.keys()];
  }

  status(): RuntimeStatus {
    return {
      version: 1,
      supervisorPid: process.pid,
      startedAt: this.startedAt.toISOString(),
      engine: this.options.engine.kind,
      engineVersion: this.options.engine.version,
      proxy: { listen: this.config.proxy.listen, url: this.config.proxy.publicUrl },
      tenants: [...this.tenants.values()].map(({ runner }) => runner.snapshot()),
    };
  }

  private createRunner(spec: TenantSpec): TenantRunner {
    const settings = this.config.supervisor;
    return new TenantRunner(spec, {
      engine: this.options.engine,
      extraArgs: this.config.server.args,
      extraEnv: this.config.server.env,
      readyTimeoutMs: settings.readyTimeoutMs,
      stopTimeoutMs: settings.stopTimeoutMs,
      healthIntervalMs: settings.healthIntervalMs,
      unhealthyAfterMs: settings.unhealthyAfterMs,
      policy: restartPolicyOf(settings),
      spawn: this.options.spawn,
      logger: this.options.logger,
      prepareLaunch: (current) => this.prepareLaunch(current),
      onChange: () => this.writer.schedule(),
    });
  }

  /** Locks the tenant's data directory for this supervisor, then starts its server. */
  private async startTenant(tenant: ManagedTenant): Promise<TenantStartResult> {
    const { runner } = tenant;
    const portBefore = runner.spec.port;
    let ready = false;
    try {
      tenant.dataDirLock ??= await acquireDataDirLock(runner.spec.dataDir, runner.spec.name, this.options.paths.root);
      ready = await runner.start();
    } catch (error) {
      runner.markFailed(error instanceof Error ? error.message : String(error));
      this.options.logger.error({ tenant: runner.spec.name, err: error }, 'tenant could not start');
    }
    const movedFromPort = runner.spec.port === portBefore ? null : portBefore;
    return { name: runner.spec.name, ready, port: runner.spec.port, movedFromPort, error: runner.error };
  }

  private async stopTenant(tenant: ManagedTenant): Promise<void> {
    await tenant.runner.stop();
    await tenant.dataDirLock?.release();
    tenant.dataDirLock = undefined;
  }

  /**
   * Checks, before every launch, that no other process serves the tenant's data directory
   * and that its ports are free. A port that another program took moves the tenant to a
   * new one from `ports`, unless tenants.yaml fixes the port.
   */
  private async prepareLaunch(spec: TenantSpec): Promise<TenantSpec> {
    // The scan may be up to a second old, so a holder must still be alive now.
    const holder = (await this.scanProcesses()).find(
      (candidate) => servesDataDir(candidate.argv, spec.dataDir) && isAlive(candidate.pid),
    );
    if (holder !== undefined) {
      throw new TenantsError(
        'DATA_DIR_IN_USE',
        `the data directory ${spec.dataDir} of tenant ${spec.name} is in use by another server (pid ${holder.pid}: ${holder.argv.slice(0, 3).join(' ')} …); stop it first`,
      );
    }

    const checkConsole = this.options.engine.flavor === 'current';
    const [apiFree, consoleFree] = await Promise.all([isPortFree(spec.port), checkConsole ? isPortFree(spec.consolePort) : true]);
    if (apiFree && consoleFree) {
      return spec;
    }
    const fixedPort = this.config.tenants.find((tenant) => tenant.name === spec.name)?.port;
    if (fixedPort !== undefined && !apiFree) {
      throw new TenantsError(
        'PORT_IN_USE',
        `port ${fixedPort} of tenant ${spec.name} is in use by another program, and tenants.yaml fixes it; free the port or remove "port" from tenants.${spec.name}`,
      );
    }
    const ports = await reassignPorts(this.config, spec.name);
    const moved = { ...spec, port: fixedPort ?? ports.port, consolePort: ports.consolePort };
    this.options.logger.warn(
      { tenant: spec.name, fromPort: spec.port, toPort: moved.port, fromConsolePort: spec.consolePort, toConsolePort: moved.consolePort },
      'port in use by another program; tenant moved to a new port',
    );
    return moved;
  }

  private scanProcesses(): Promise<ServerProcessInfo[]> {
    const now = Date.now();
    if (this.processScan === undefined || now - this.processScan.atMs > PROCESS_SCAN_REUSE_MS) {
      this.processScan = { atMs: now, result: listProcesses() };
    }
    return this.processScan.result;
  }

  private routes(): RouteEntry[] {
    return [...this.tenants.values()].map(({ runner: { spec, state } }) => ({
      name: spec.name,
      upstream: `http://127.0.0.1:${spec.port}`,
      accessKeys: [spec.accessKey],
      state,
      hosts: spec.hosts,
    }));
  }

  private async writeState(): Promise<void> {
    await writeRoutesFile(this.options.paths.routes, this.routes());
    await writeRuntimeStatus(this.options.paths.status, this.status());
  }
}

/** Decides whether a reload restarts a tenant: when anything its server was launched with changed. */
function needsRestart(current: TenantSpec, next: TenantSpec): boolean {
  return (
    current.port !== next.port ||
    current.consolePort !== next.consolePort ||
    current.dataDir !== next.dataDir ||
    current.accessKey !== next.accessKey ||
    current.secretKey !== next.secretKey
  );
}
