import { chmod, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TenantsError, errnoCode } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** Actions that the control socket can request from the supervisor. */
export interface ControlHandlers {
  /** Re-reads tenants.yaml and applies the difference. */
  reload(): Promise<unknown>;
  restart(name: string): Promise<unknown>;
}

export interface ControlServer {
  close(): Promise<void>;
}

/**
 * Serves HTTP on a Unix socket with mode 0600 in the state directory (itself 0700), so only
 * the owner can reach it. Routes: `POST /reload` and `POST /tenants/<name>/restart`; each
 * responds with JSON, `{ ok: true, result }` or `{ ok: false, code, message }`.
 */
export async function startControlServer(socketPath: string, handlers: ControlHandlers, logger: Logger): Promise<ControlServer> {
  // A socket file left by a supervisor that died blocks listen(); the supervisor lock
  // already proved that no live supervisor owns it.
  await unlink(socketPath).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT') {
      throw error;
    }
  });

  const server = createServer((req, res) => {
    void handle(req, res, handlers, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);

  return {
    close: () => closeServer(server, socketPath),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, handlers: ControlHandlers, logger: Logger): Promise<void> {
  req.resume();
  const url = req.url ?? '/';
  const restart = /^\/tenants\/([^/]+)\/restart$/.exec(url);
  try {
    let result: unknown;
    if (req.method === 'POST' && url === '/reload') {
      result = await handlers.reload();
    } else if (req.method === 'POST' && restart !== null) {
      result = await handlers.restart(decodeURIComponent(restart[1] as string));
    } else {
      reply(res, 404, { ok: false, code: 'NOT_FOUND', message: `no control route ${req.method} ${url}` });
      return;
    }
    reply(res, 200, { ok: true, result });
  } catch (error) {
    const code = error instanceof TenantsError ? error.code : 'INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    logger.error({ route: url, code, err: error }, 'control request failed');
    reply(res, error instanceof TenantsError ? 400 : 500, { ok: false, code, message });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function closeServer(server: Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await unlink(socketPath).catch(() => {});
}
