import type { TemporaryKey } from './learned-keys.js';
import type { ProxyLimits } from './proxy-limits.js';
import type { ProxyTlsFiles } from './tls-certificate.js';

/**
 * The messages that the primary of a proxy cluster and its workers exchange over the
 * node:cluster IPC channel, and the settings a worker starts with.
 */

/** Environment variable that carries a worker's settings as JSON. None of them is secret. */
export const WORKER_SETTINGS_VARIABLE = 'MINIO_TENANTS_PROXY_WORKER';

/** What a worker needs to run `startProxy()`; the log goes to `logFile`, or standard error. */
export interface ProxyWorkerSettings {
  routesFile: string;
  listen: string;
  tls?: ProxyTlsFiles;
  limits?: Partial<ProxyLimits>;
  retryAfterSeconds?: number;
  logFile?: string;
}

export type WorkerMessage =
  /** Sent once the worker listens for messages, which it cannot do before its modules have loaded. */
  | { type: 'ready' }
  | { type: 'listening'; address: string; port: number; url: string }
  /** `startProxy()` rejected; `code` is the TenantsError code, such as PROXY_LISTEN_FAILED. */
  | { type: 'start-failed'; code: string; message: string }
  | { type: 'key-learned'; key: TemporaryKey }
  | { type: 'reloaded'; requestId: number; error?: { code: string; message: string } };

export type PrimaryMessage =
  /** Every key learned so far in reply to `ready`, then each key that another worker learns. */
  | { type: 'learn-keys'; keys: TemporaryKey[] }
  | { type: 'reload'; requestId: number }
  /** Close gracefully: finish requests in flight, then exit with code 0. */
  | { type: 'close' };

export function encodeWorkerSettings(settings: ProxyWorkerSettings): string {
  return JSON.stringify(settings);
}

/**
 * Parses the settings a worker finds in its environment. Throws when they are missing or
 * malformed, which means the worker was not started by `startProxyCluster()`.
 */
export function decodeWorkerSettings(text: string | undefined): ProxyWorkerSettings {
  if (text === undefined || text === '') {
    throw new Error(`${WORKER_SETTINGS_VARIABLE} is not set; proxy workers are started by startProxyCluster()`);
  }
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed) || typeof parsed.routesFile !== 'string' || typeof parsed.listen !== 'string') {
    throw new Error(`${WORKER_SETTINGS_VARIABLE} must be a JSON object with string fields routesFile and listen`);
  }
  return parsed as unknown as ProxyWorkerSettings;
}

/** Tells whether an IPC message from a worker is one of ours, so that other messages are ignored. */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return isRecord(message) && ['ready', 'listening', 'start-failed', 'key-learned', 'reloaded'].includes(message.type as string);
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return isRecord(message) && ['learn-keys', 'reload', 'close'].includes(message.type as string);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
