import { request } from 'node:http';
import { TenantsError } from '../errors.js';
import type { StatePaths } from '../state/paths.js';

/** How long a control request may take: a restart waits for the server to become ready. */
const CONTROL_TIMEOUT_MS = 120_000;

/**
 * Sends `POST <route>` to the running supervisor's control socket and returns its result.
 * Throws the supervisor's error code and message when it rejects the request.
 */
export function sendControlRequest<T>(paths: StatePaths, route: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: paths.controlSocket, path: route, method: 'POST', timeout: CONTROL_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          const body = JSON.parse(text) as { ok: boolean; result?: T; code?: string; message?: string };
          if (body.ok) {
            resolve(body.result as T);
          } else {
            reject(new TenantsError(body.code ?? 'CONTROL_FAILED', body.message ?? `the supervisor rejected ${route}`));
          }
        } catch (error) {
          reject(new TenantsError('CONTROL_FAILED', `the supervisor sent an unreadable response to ${route}`, { cause: error }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${CONTROL_TIMEOUT_MS / 1000} s`)));
    req.on('error', (error) =>
      reject(
        new TenantsError(
          'CONTROL_UNREACHABLE',
          `cannot reach the supervisor at ${paths.controlSocket}: ${error.message}; check "minio-tenants status"`,
          { cause: error },
        ),
      ),
    );
    req.end();
  });
}
