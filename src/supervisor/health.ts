import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** GETs MinIO's liveness endpoint; true on 200. Documented at https://min.io/docs/minio/linux/operations/monitoring/healthcheck-probe.html */
export function probeLive(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/minio/health/live', method: 'GET', agent: false, timeout: timeoutMs });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export type ReadyOutcome = 'ready' | 'exited' | 'timeout';

/**
 * Polls the liveness endpoint until it answers 200, the process exits (`hasExited`) or
 * `timeoutMs` passes.
 */
export async function waitUntilLive(
  port: number,
  options: { timeoutMs: number; hasExited: () => boolean; pollMs?: number },
): Promise<ReadyOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const pollMs = options.pollMs ?? 50;
  while (Date.now() < deadline) {
    if (options.hasExited()) {
      return 'exited';
    }
    if (await probeLive(port, Math.min(1000, Math.max(1, deadline - Date.now())))) {
      return 'ready';
    }
    await sleep(pollMs);
  }
  return options.hasExited() ? 'exited' : 'timeout';
}
