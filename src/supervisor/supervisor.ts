import { mkdir } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { writeRoutesFile, type RouteEntry } from '../routing/routes-file.js';
import type { StatePaths } from '../state/paths.js';
import { writeRuntimeStatus, type RuntimeStatus } from '../state/runtime-status.js';
import { CoalescingWriter } from './coalescing-writer.js';
import type { Engine } from './engine.js';
import type { RestartPolicyOptions } from './restart-policy.js';
import type { SpawnServer } from './spawn-server.js';
import { TenantRunner, type TenantSpec } from './tenant-runner.js';

export interface SupervisorOptions {
  paths: StatePaths;
  engine: Engine;
  tenants: TenantSpec[];
  extraArgs: readonly string[];
  extraEnv: Readonly<Record<string, string>>;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  policy: RestartPolicyOptions;
  spawn: SpawnServer;
  logger: Logger;
  proxy: { listen: string; url: string };
  /** How many servers start at once; the rest wait for a slot. */
  startConcurrency?: number;
}

export interface TenantStartResult {
  name: string;
  ready: boolean;
  port: number;
  error: string | null;
}

/**
 * Owns the tenant runners and keeps `status.json` and `routes.json` in step with their
 * states. One instance per state directory, guarded by the supervisor lock.
 */
export class Supervisor {
  private readonly runners: Map<string, TenantRunner>;
  private readonly writer: CoalescingWriter;
  private readonly startedAt = new Date();

  constructor(private readonly options: SupervisorOptions) {
    this.writer = new CoalescingWriter(
      () => this.writeState(),
      (error) => options.logger.error({ err: error }, 'writing status or routes failed'),
    );
    this.runners = new Map(
      options.tenants.map((spec) => [
        spec.name,
        new TenantRunner(spec, {
          engine: options.engine,
          extraArgs: options.extraArgs,
          extraEnv: options.extraEnv,
          readyTimeoutMs: options.readyTimeoutMs,
          stopTimeoutMs: options.stopTimeoutMs,
          policy: options.policy,
          spawn: options.spawn,
          logger: options.logger,
          onChange: () => this.writer.schedule(),
        }),
      ]),
    );
  }

  /**
   * Starts every tenant, at most `startConcurrency` at a time, and calls `onSettled` as each
   * becomes ready or fails. Resolves when all have settled.
   */
  async start(onSettled: (result: TenantStartResult) => void = () => {}): Promise<TenantStartResult[]> {
    await mkdir(this.options.paths.logs, { recursive: true, mode: 0o700 });
    await this.writeState();

    const queue = [...this.runners.values()];
    const results: TenantStartResult[] = [];
    const worker = async (): Promise<void> => {
      for (let runner = queue.shift(); runner !== undefined; runner = queue.shift()) {
        const ready = await runner.start();
        const result = { name: runner.spec.name, ready, port: runner.spec.port, error: runner.error };
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
    this.options.logger.info({ tenants: this.runners.size }, 'stopping all servers');
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
    this.writer.schedule();
    await this.writer.flush();
    this.options.logger.info({}, 'all servers stopped');
  }

  status(): RuntimeStatus {
    return {
      version: 1,
      supervisorPid: process.pid,
      startedAt: this.startedAt.toISOString(),
      engine: this.options.engine.kind,
      engineVersion: this.options.engine.version,
      proxy: this.options.proxy,
      tenants: [...this.runners.values()].map((runner) => runner.snapshot()),
    };
  }

  private routes(): RouteEntry[] {
    return [...this.runners.values()].map(({ spec, state }) => ({
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
