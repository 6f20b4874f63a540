// Loopback helpers: free ports, readiness polling and one-shot HTTP requests.
import { request } from 'node:http';
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** Returns a port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Sends one request to 127.0.0.1 and resolves with the status, headers and body. */
export function httpRequest(port, { method = 'GET', path = '/', headers = {}, body, timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, method, path, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to 127.0.0.1:${port}${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Polls `path` on 127.0.0.1:`port` every 10 ms until `isReady(status)` holds. Throws when
 * `child` exits first or `timeoutMs` passes.
 */
export async function waitForHttp(port, { path = '/', child, timeoutMs = 15_000, isReady = (status) => status < 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${child.label} (pid ${child.pid}) exited before 127.0.0.1:${port} answered`);
    }
    const status = await httpRequest(port, { path, timeoutMs: 1_000 }).then((res) => res.status, () => undefined);
    if (status !== undefined && isReady(status)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`127.0.0.1:${port}${path} was not ready within ${timeoutMs} ms`);
}
