import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';

/** The dev server binary; tests run after `tsc`, which `npm test` does first. */
export const DEV_SERVER_BIN = fileURLToPath(new URL('../../bin/minio-dev-server.js', import.meta.url));

export interface DevServerHandle {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  accessKey: string;
  secretKey: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM, then SIGKILL after 5 s, and waits for the exit; removes a data dir it created. */
  stop(options?: { keepDataDir?: boolean }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartDevServerOptions {
  accessKey?: string;
  secretKey?: string;
  /** An existing data directory; by default a fresh one under os.tmpdir() is created and removed by stop(). */
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  /** How long to wait for /minio/health/live to return 200. */
  readyTimeoutMs?: number;
}

export function randomCredentials(): { accessKey: string; secretKey: string } {
  return { accessKey: `AK${randomBytes(6).toString('hex').toUpperCase()}`, secretKey: randomBytes(18).toString('base64url') };
}

/** Starts `minio-dev-server server --address 127.0.0.1:<port> <dataDir>` and waits until it is live. */
export async function startDevServer(options: StartDevServerOptions = {}): Promise<DevServerHandle> {
  const generated = randomCredentials();
  const accessKey = options.accessKey ?? generated.accessKey;
  const secretKey = options.secretKey ?? generated.secretKey;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'devserver-test-')));
  const port = options.port ?? (await getPort({ host: '127.0.0.1' }));

  const child = spawnDevServer(['server', '--address', `127.0.0.1:${port}`, dataDir], {
    MINIO_ROOT_USER: accessKey,
    MINIO_ROOT_PASSWORD: secretKey,
    ...options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  const handle: DevServerHandle = {
    url,
    port,
    pid: child.process.pid!,
    dataDir,
    accessKey,
    secretKey,
    output: child.output,
    stop: async (stopOptions = {}) => {
      const result = await stopProcess(child.process);
      if (ownsDataDir && stopOptions.keepDataDir !== true) {
        await rm(dataDir, { recursive: true, force: true });
      }
      return result;
    },
  };

  try {
    await waitForHealth(url, child.process, options.readyTimeoutMs ?? 15_000);
  } catch (error) {
    await handle.stop();
    throw new Error(`${(error as Error).message}\noutput:\n${child.output()}`);
  }
  return handle;
}

/** Spawns the binary with the given arguments and environment and collects its output. */
export function spawnDevServer(
  args: string[],
  env: Record<string, string>,
): { process: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const baseEnv = { ...process.env };
  for (const name of ['MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'MINIO_DEV_FAULT', 'MINIO_DEV_FAULT_FILE']) {
    delete baseEnv[name];
  }
  const child = spawn(process.execPath, [DEV_SERVER_BIN, ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, output: () => output, exited };
}

/** Sends SIGTERM to the pid, SIGKILL after 5 s, and resolves with how the process ended. */
export async function stopProcess(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  process.kill(child.pid!, 'SIGTERM');
  const killTimer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGKILL');
    }
  }, 5_000);
  try {
    return await exited;
  } finally {
    clearTimeout(killTimer);
  }
}

/** Polls /minio/health/live every 50 ms until it returns 200, the process exits, or time runs out. */
export async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the dev server exited with code ${child.exitCode} (signal ${child.signalCode}) before it was live`);
    }
    try {
      const response = await fetch(`${url}/minio/health/live`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the dev server at ${url} was not live within ${timeoutMs} ms`);
}
