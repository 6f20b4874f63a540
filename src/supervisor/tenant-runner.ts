import { mkdir } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import type { TenantState } from '../routing/routes-file.js';
import type { ExitInfo, TenantRuntime } from '../state/runtime-status.js';
import type { Engine } from './engine.js';
import { probeLive, waitUntilLive } from './health.js';
import { buildLaunchCommand } from './launch-command.js';
import { readLogTail } from './log-tail.js';
import { sendSignal } from './process-info.js';
import { emptyHistory, onCrash, type CrashHistory, type RestartPolicyOptions } from './restart-policy.js';
import type { ServerExit, ServerProcess, SpawnServer } from './spawn-server.js';

/** Everything needed to run one tenant's server. */
export interface TenantSpec {
  name: string;
  port: number;
  consolePort: number;
  dataDir: string;
  configDir: string;
  logFile: string;
  accessKey: string;
  secretKey: string;
  hosts: string[];
}

export interface RunnerOptions {
  engine: Engine;
  extraArgs: readonly string[];
  extraEnv: Readonly<Record<string, string>>;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  /** How often a running server's liveness endpoint is polled. */
  healthIntervalMs: number;
  /** A running server that fails every health check for this long is killed and restarted. */
  unhealthyAfterMs: number;
  policy: RestartPolicyOptions;
  /**
   * Runs before every launch and returns the spec to launch with: the supervisor moves the
   * tenant to a free port here when another program took its port. Throwing fails the tenant.
   */
  prepareLaunch: (spec: TenantSpec) => Promise<TenantSpec>;
  spawn: SpawnServer;
  logger: Logger;
  /** Called after every state change, so the supervisor can rewrite status and routes. */
  onChange: () => void;
}

const FAILED_LOG_LINES = 10;

/**
 * Runs one tenant's server: spawns it, waits for its liveness endpoint, restarts it by the
 * restart policy when it exits, and stops it with SIGTERM, then SIGKILL after a timeout.
 */
export class TenantRunner {
  state: TenantState = 'stopped';
  pid: number | null = null;
  readySince: Date | null = null;
  restarts = 0;
  lastExit: ExitInfo | null = null;
  error: string | null = null;

  private process: ServerProcess | undefined;
  private exited = true;
  private stopping = false;
  private startedAtMs = 0;
  private history: CrashHistory = emptyHistory();
  private restartTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private settleWaiters: Array<(ready: boolean) => void> = [];
  private readonly logger: Logger;

  constructor(
    public spec: TenantSpec,
    private readonly options: RunnerOptions,
  ) {
    this.logger = options.logger.child({ tenant: spec.name });
  }

  /** Starts the server. Resolves true once it is ready, false once the restart policy gives up. */
  start(): Promise<boolean> {
    this.stopping = false;
    this.error = null;
    this.history = emptyHistory();
    const settled = new Promise<boolean>((resolve) => this.settleWaiters.push(resolve));
    this.setState('starting');
    void this.launch();
    return settled;
  }

  /** Stops the server if it runs and starts it again with a fresh crash history; clears `failed`. */
  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  /** Stops the server: SIGTERM, then SIGKILL after `stopTimeoutMs`. Resolves when it has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.healthTimer);
    const current = this.process;
    if (current !== undefined && !this.exited) {
      this.logger.info({ pid: current.pid }, 'stopping server');
      sendSignal(current.pid, 'SIGTERM');
      const timedOut = await Promise.race([
        current.exited.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, this.options.stopTimeoutMs, true).unref()),
      ]);
      if (timedOut) {
        this.logger.warn({ pid: current.pid, stopTimeoutMs: this.options.stopTimeoutMs }, 'server ignored SIGTERM; sending SIGKILL');
        sendSignal(current.pid, 'SIGKILL');
        await current.exited;
      }
    }
    this.pid = null;
    this.readySince = null;
    this.setState('stopped');
    this.settle(false);
  }

  snapshot(): TenantRuntime {
    return {
      name: this.spec.name,
      state: this.state,
      pid: this.pid,
      port: this.spec.port,
      consolePort: this.spec.consolePort,
      dataDir: this.spec.dataDir,
      readySince: this.readySince?.toISOString() ?? null,
      restarts: this.restarts,
      lastExit: this.lastExit,
      error: this.error,
    };
  }

  private async launch(): Promise<void> {
    const { options } = this;
    let spec: TenantSpec;
    try {
      spec = await options.prepareLaunch(this.spec);
      await mkdir(spec.dataDir, { recursive: true });
      await mkdir(spec.configDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      this.markFailed(error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.stopping) {
      return;
    }
    this.spec = spec;

    const command = buildLaunchCommand({
      engine: options.engine,
      extraArgs: options.extraArgs,
      extraEnv: options.extraEnv,
      configDir: spec.configDir,
      dataDir: spec.dataDir,
      port: spec.port,
      consolePort: spec.consolePort,
      accessKey: spec.accessKey,
      secretKey: spec.secretKey,
      baseEnv: process.env,
    });
    const child = options.spawn(command, spec.logFile);
    this.process = child;
    this.exited = false;
    this.startedAtMs = Date.now();
    this.pid = child.pid > 0 ? child.pid : null;
    this.logger.info({ pid: this.pid, port: spec.port, engine: options.engine.kind }, 'server started');
    this.options.onChange();
    void child.exited.then((exit) => this.onExit(child, exit));

    const outcome = await waitUntilLive(spec.port, {
      timeoutMs: options.readyTimeoutMs,
      hasExited: () => this.exited || this.process !== child,
    });
    if (this.process !== child || this.stopping) {
      return;
    }
    if (outcome === 'ready') {
      this.readySince = new Date();
      this.setState('running');
      this.logger.info({ pid: child.pid, port: spec.port }, 'server ready');
      this.watchHealth(child);
      this.settle(true);
    } else if (outcome === 'timeout') {
      // A server that never becomes ready counts as a crash: kill it, and onExit restarts it.
      this.logger.warn({ pid: child.pid, readyTimeoutMs: options.readyTimeoutMs }, 'server not ready in time; killing it');
      sendSignal(child.pid, 'SIGKILL');
    }
  }

  /**
   * Polls the liveness endpoint of a running server. One that fails every probe for
   * `unhealthyAfterMs` is killed; its exit then goes through the restart policy.
   */
  private watchHealth(child: ServerProcess): void {
    const { healthIntervalMs, unhealthyAfterMs } = this.options;
    let lastHealthyMs = Date.now();
    let probing = false;
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => {
      if (probing || this.process !== child || this.exited) {
        return;
      }
      probing = true;
      void probeLive(this.spec.port, Math.max(100, Math.min(healthIntervalMs, 2_000))).then((healthy) => {
        probing = false;
        if (this.process !== child || this.exited || this.stopping) {
          return;
        }
        if (healthy) {
          lastHealthyMs = Date.now();
        } else if (Date.now() - lastHealthyMs >= unhealthyAfterMs) {
          this.logger.warn({ pid: child.pid, unhealthyAfterMs }, 'server failed its health checks; killing it');
          clearInterval(this.healthTimer);
          sendSignal(child.pid, 'SIGKILL');
        }
      });
    }, healthIntervalMs);
    this.healthTimer.unref();
  }

  private async onExit(child: ServerProcess, exit: ServerExit): Promise<void> {
    if (child !== this.process) {
      return;
    }
    clearInterval(this.healthTimer);
    this.exited = true;
    this.pid = null;
    this.readySince = null;
    this.lastExit = { code: exit.code, signal: exit.signal, at: new Date().toISOString() };
    if (this.stopping) {
      return;
    }

    const now = Date.now();
    const { history, decision } = onCrash(this.options.policy, this.history, this.startedAtMs, now);
    this.history = history;
    this.logger.warn({ pid: child.pid, code: exit.code, signal: exit.signal }, 'server exited');
    if (decision.action === 'fail') {
      const tail = await readLogTail(this.spec.logFile, FAILED_LOG_LINES);
      this.logger.error({ crashes: decision.crashes, code: exit.code, signal: exit.signal }, 'server failed; not restarting');
      this.markFailed(
        `exited ${decision.crashes} times within ${this.options.policy.crashWindowMs / 1000} s; ` +
          `last exit ${describeExit(exit)}; fix the cause, then run "minio-tenants restart ${this.spec.name}"; see ${this.spec.logFile}` +
          (tail.length > 0 ? `; last log lines:\n${tail.join('\n')}` : ''),
      );
      return;
    }

    this.restarts += 1;
    this.setState('restarting');
    this.logger.info({ delayMs: decision.delayMs, attempt: decision.attempt }, 'restarting server');
    this.restartTimer = setTimeout(() => void this.launch(), decision.delayMs);
  }

  /** Puts the tenant in state `failed` with a reason; only `restart` or a reload starts it again. */
  markFailed(reason: string): void {
    this.error = reason;
    this.pid = null;
    this.setState('failed');
    this.settle(false);
  }

  private setState(state: TenantState): void {
    this.state = state;
    this.options.onChange();
  }

  private settle(ready: boolean): void {
    const waiters = this.settleWaiters;
    this.settleWaiters = [];
    for (const resolve of waiters) {
      resolve(ready);
    }
  }
}

export function describeExit(exit: { code: number | null; signal: string | null }): string {
  return exit.signal !== null ? `by signal ${exit.signal}` : `with code ${exit.code}`;
}
