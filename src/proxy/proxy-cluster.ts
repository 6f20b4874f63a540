import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_PROXY_WORKERS } from '../config/defaults.js';
import { TenantsError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { emptyHistory, onCrash, type CrashHistory, type RestartPolicyOptions } from '../supervisor/restart-policy.js';
import { LearnedKeys, type TemporaryKey } from './learned-keys.js';
import { DEFAULT_PROXY_LIMITS } from './proxy-limits.js';
import {
  encodeWorkerSettings,
  isWorkerMessage,
  WORKER_SETTINGS_VARIABLE,
  type PrimaryMessage,
  type ProxyWorkerSettings,
  type WorkerMessage,
} from './proxy-worker-protocol.js';
import type { ProxyHandle, ProxyOptions } from './server.js';

/** The compiled worker entry; `src/proxy` and `dist/proxy` are both two levels below the package root. */
const WORKER_SCRIPT = fileURLToPath(new URL('../../dist/proxy/proxy-worker.js', import.meta.url));


/** How long the workers may take to load the routing table and listen. */
const WORKER_START_TIMEOUT_MS = 30_000;

/**
 * Backoff for workers that exit unexpectedly: 250 ms doubling to 30 s, reset after 60 s
 * of running. A proxy worker is never given up on, because the cluster would lose capacity.
 */
const WORKER_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  maxCrashes: Number.POSITIVE_INFINITY,
  crashWindowMs: 60_000,
};

export interface ProxyClusterOptions extends Omit<ProxyOptions, 'onKeyLearned' | 'logger'> {
  /** Worker processes, 1 to 64. */
  workers: number;
  /** The primary's log: worker starts, exits and restarts. */
  logger?: Logger;
  /** File the workers append their JSON log lines to; standard error when missing. */
  logFile?: string;
  /** Node.js options of the workers, such as `--cpu-prof`; none by default. */
  execArgv?: string[];
}

type ListeningMessage = Extract<WorkerMessage, { type: 'listening' }>;

/** A worker process and its state as the primary tracks it. */
interface WorkerSlot {
  worker: Worker;
  pid: number;
  startedAtMs: number;
  /** True once the worker asked for the learned keys; relayed keys go only to such workers. */
  receivesKeys: boolean;
  listening?: ListeningMessage;
  startFailure?: { code: string; message: string };
  /** Callbacks of reloads waiting for this worker, by request id. */
  pendingReloads: Map<number, (error?: { code: string; message: string }) => void>;
  exited: Promise<void>;
}

/**
 * Starts `options.workers` proxy processes with node:cluster, all accepting on one
 * listening socket, and returns a handle shaped like `startProxy()`'s. A worker that exits
 * unexpectedly is replaced after a backoff; one that cannot listen is not. Temporary keys
 * that one worker learns from STS responses are relayed to every worker, including
 * workers started later. Rejects like `startProxy()` when a worker cannot start, such as
 * with PROXY_LISTEN_FAILED when the address is taken.
 *
 * NOTE: node:cluster keys a shared listening socket by address and port, so two clusters
 * in one process that both listen on port 0 of the same host would share one socket.
 * The supervisor runs one cluster per process.
 */
export async function startProxyCluster(options: ProxyClusterOptions): Promise<ProxyHandle> {
  if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > MAX_PROXY_WORKERS) {
    throw new TenantsError('PROXY_WORKERS_INVALID', `invalid proxy worker count ${options.workers}: use an integer from 1 to ${MAX_PROXY_WORKERS}`);
  }
  if (!existsSync(WORKER_SCRIPT)) {
    throw new TenantsError('PROXY_WORKER_MISSING', `the proxy worker script ${WORKER_SCRIPT} is missing; build the project with npx tsc -p tsconfig.json`);
  }

  const proxyCluster = new ProxyCluster(options);
  await proxyCluster.start();
  return proxyCluster.handle();
}

class ProxyCluster {
  private readonly logger: Logger;
  private readonly slots = new Map<number, WorkerSlot>();
  private readonly learned: LearnedKeys;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private crashes: CrashHistory = emptyHistory();
  private stopping = false;
  /** False until every first worker listens; start() itself handles exits before that. */
  private started = false;
  private nextRequestId = 1;
  /** The `listening` message of the first worker. */
  private bound: ListeningMessage | undefined;

  constructor(private readonly options: ProxyClusterOptions) {
    this.logger = options.logger ?? silentLogger();
    this.learned = new LearnedKeys(options.limits?.maxLearnedKeys ?? DEFAULT_PROXY_LIMITS.maxLearnedKeys);
  }

  /** Forks every worker and waits until all listen; on a failure stops them all and rejects. */
  async start(): Promise<void> {
    configurePrimary(this.options.execArgv ?? []);
    const slots = Array.from({ length: this.options.workers }, () => this.fork());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TenantsError('PROXY_WORKER_FAILED', `proxy workers did not listen within ${WORKER_START_TIMEOUT_MS / 1000} s; see ${this.logDestination()}`)),
        WORKER_START_TIMEOUT_MS,
      );
    });
    try {
      const listening = await Promise.race([Promise.all(slots.map((slot) => this.waitUntilListening(slot))), timeout]);
      this.bound = listening[0];
    } catch (error) {
      this.destroy();
      await Promise.all(slots.map((slot) => slot.exited));
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.started = true;
    this.logger.info({ address: this.listenAddress(), workers: slots.length, pids: slots.map((slot) => slot.pid) }, 'proxy cluster listening');
  }

  handle(): ProxyHandle {
    const bound = this.bound as ListeningMessage;
    return {
      address: bound.address,
      port: bound.port,
      url: bound.url,
      reload: () => this.reload(),
      close: () => this.close(),
      destroy: () => this.destroy(),
    };
  }

  /** Sends a reload to every listening worker; rejects with the first worker's error. */
  private async reload(): Promise<void> {
    const requestId = this.nextRequestId++;
    const replies = [...this.slots.values()]
      .filter((slot) => slot.listening !== undefined)
      .map(
        (slot) =>
          new Promise<{ code: string; message: string } | undefined>((resolve) => {
            slot.pendingReloads.set(requestId, resolve);
            this.send(slot, { type: 'reload', requestId });
          }),
      );
    const failure = (await Promise.all(replies)).find((error) => error !== undefined);
    if (failure !== undefined) {
      throw new TenantsError(failure.code, failure.message);
    }
  }

  /** Asks every worker to finish its requests in flight and exit; resolves once all have exited. */
  private async close(): Promise<void> {
    this.stopRestarting();
    const slots = [...this.slots.values()];
    for (const slot of slots) {
      this.send(slot, { type: 'close' });
    }
    await Promise.all(slots.map((slot) => slot.exited));
    this.logger.info({ address: this.listenAddress() }, 'proxy cluster closed');
  }

  /** Kills every worker with SIGKILL, which drops their connections. */
  private destroy(): void {
    this.stopRestarting();
    for (const slot of this.slots.values()) {
      slot.worker.process.kill('SIGKILL');
    }
  }

  private stopRestarting(): void {
    this.stopping = true;
    for (const timer of this.restartTimers) {
      clearTimeout(timer);
    }
    this.restartTimers.clear();
  }

  private listenAddress(): string {
    return this.bound?.address ?? this.options.listen;
  }

  private fork(): WorkerSlot {
    const settings: ProxyWorkerSettings = {
      routesFile: this.options.routesFile,
      // The primary keys its listening socket by the address as requested, so a replacement
      // requests the same one to share the socket. With the bound port in place of port 0
      // it would try to bind a second socket and fail with EADDRINUSE.
      // NOTE: with port 0, a replacement started after every worker had exited gets a new port.
      listen: this.options.listen,
      ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
      ...(this.options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.options.retryAfterSeconds }),
      ...(this.options.logFile === undefined ? {} : { logFile: this.options.logFile }),
    };
    const worker = cluster.fork({ [WORKER_SETTINGS_VARIABLE]: encodeWorkerSettings(settings) });
    const slot: WorkerSlot = {
      worker,
      pid: worker.process.pid as number,
      startedAtMs: Date.now(),
      receivesKeys: false,
      pendingReloads: new Map(),
      exited: new Promise((resolve) => worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        this.onExit(slot, code, signal);
        resolve();
      })),
    };
    this.slots.set(worker.id, slot);
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) {
        this.onMessage(slot, message);
      }
    });
    // A closed IPC channel is reported by 'exit' as well; without this listener it would be thrown.
    worker.on('error', (error) => this.logger.warn({ worker: worker.id, pid: slot.pid, err: error }, 'proxy worker channel error'));
    this.logger.debug({ worker: worker.id, pid: slot.pid }, 'proxy worker started');
    return slot;
  }

  private onMessage(slot: WorkerSlot, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        // The worker registered its message listener; messages sent earlier could be lost.
        slot.receivesKeys = true;
        this.send(slot, { type: 'learn-keys', keys: this.learned.unexpired() });
        return;
      case 'listening':
        slot.listening = message;
        return;
      case 'start-failed':
        slot.startFailure = { code: message.code, message: message.message };
        return;
      case 'key-learned':
        this.relayKey(slot, message.key);
        return;
      case 'reloaded':
        slot.pendingReloads.get(message.requestId)?.(message.error);
        slot.pendingReloads.delete(message.requestId);
        return;
    }
  }

  /** Stores a key learned by `source` for later workers and sends it to every other worker. */
  private relayKey(source: WorkerSlot, key: TemporaryKey): void {
    this.learned.learn(key.accessKey, key.tenant, key.expiresAtMs);
    for (const slot of this.slots.values()) {
      if (slot !== source && slot.receivesKeys) {
        this.send(slot, { type: 'learn-keys', keys: [key] });
      }
    }
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    this.slots.delete(slot.worker.id);
    for (const resolve of slot.pendingReloads.values()) {
      resolve();
    }
    if (this.stopping || !this.started) {
      return;
    }
    const fields = { worker: slot.worker.id, pid: slot.pid, code, signal };
    if (slot.startFailure?.code === 'PROXY_LISTEN_FAILED') {
      // Another start would fail the same way; the remaining workers keep serving.
      this.logger.error({ ...fields, error: slot.startFailure.message, workers: this.slots.size }, 'proxy worker cannot listen; not restarting it');
      return;
    }
    const { history, decision } = onCrash(WORKER_RESTART_POLICY, this.crashes, slot.startedAtMs, Date.now());
    this.crashes = history;
    const delayMs = decision.action === 'restart' ? decision.delayMs : WORKER_RESTART_POLICY.maxDelayMs;
    this.logger.warn({ ...fields, delayMs, error: slot.startFailure?.message }, 'proxy worker exited; restarting');
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      this.restart();
    }, delayMs);
    this.restartTimers.add(timer);
  }

  /** Starts a replacement worker; its own exit, if it fails, schedules the next attempt. */
  private restart(): void {
    const slot = this.fork();
    void this.waitUntilListening(slot).then(
      (listening) => this.logger.info({ worker: slot.worker.id, pid: slot.pid, address: listening.address }, 'proxy worker restarted'),
      // onExit has logged the exit and scheduled the next attempt.
      () => undefined,
    );
  }

  /** Resolves when the worker listens; rejects with its start error when it exits first. */
  private waitUntilListening(slot: WorkerSlot): Promise<ListeningMessage> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (isWorkerMessage(message) && message.type === 'listening') {
          slot.worker.off('message', onMessage);
          resolve(message);
        }
      };
      slot.worker.on('message', onMessage);
      void slot.exited.then(() => {
        slot.worker.off('message', onMessage);
        reject(this.startError(slot));
      });
    });
  }

  private startError(slot: WorkerSlot): TenantsError {
    if (slot.startFailure !== undefined) {
      return new TenantsError(slot.startFailure.code, slot.startFailure.message);
    }
    const { exitCode, signalCode } = slot.worker.process;
    const how = signalCode === null ? `with code ${exitCode}` : `on ${signalCode}`;
    return new TenantsError('PROXY_WORKER_FAILED', `proxy worker ${slot.pid} exited ${how} before it listened; see ${this.logDestination()}`);
  }

  private logDestination(): string {
    return this.options.logFile === undefined ? 'standard error for its error' : `${this.options.logFile} for its error`;
  }

  private send(slot: WorkerSlot, message: PrimaryMessage): void {
    if (slot.worker.isConnected()) {
      slot.worker.send(message);
    }
  }
}

/**
 * Points node:cluster at the worker script. The settings are global to the process, and
 * every cluster here uses the same ones, so calling this again is harmless.
 *
 * The primary accepts every connection and hands them to the workers in turn (SCHED_RR),
 * unless NODE_CLUSTER_SCHED_POLICY sets another policy. With SCHED_NONE the workers accept
 * from the shared socket themselves. On a 2-core VM under wrk (32 keep-alive connections,
 * 5 runs of 3 s each) SCHED_NONE gave a median of 15,800 req/s and p99 up to 124 ms,
 * SCHED_RR 18,600 req/s and p99 up to 11 ms; see BENCHMARKS.md.
 * node:cluster freezes the policy at its first setupPrimary() call.
 */
function configurePrimary(execArgv: string[]): void {
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) {
    cluster.schedulingPolicy = cluster.SCHED_RR;
  }
  cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], execArgv, silent: false });
}
