import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { TemporaryCredentialStore } from './auth/temporary-credentials.js';
import { CliUsageError, parseCliArgs, USAGE } from './cli-args.js';
import { FaultRuntime } from './fault-runtime.js';
import { FaultSpecError, readFault, type Fault } from './fault-spec.js';
import { CredentialsConfigError, readRootCredentials } from './root-credentials.js';
import { createDevServer } from './server.js';
import { FsStore } from './store/fs-store.js';

/** Time that in-flight requests get to finish after SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Entry point of `minio-dev-server`. Exit codes: 0 after SIGTERM/SIGINT, 1 for a usage,
 * credential or start-up error, or the code that a fault sets.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await run(argv.slice(2));
  } catch (error) {
    if (error instanceof CliUsageError || error instanceof CredentialsConfigError || error instanceof FaultSpecError) {
      fail(error.message);
    }
    fail(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  }
}

async function run(args: string[]): Promise<void> {
  const command = parseCliArgs(args);
  if (command.kind === 'version') {
    process.stdout.write(`minio-dev-server version DEVELOPMENT.${packageVersion()}\n`);
    return;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const fault = readFault(process.env);
  if (fault?.kind === 'exit') {
    process.stderr.write(`minio-dev-server: exiting with code ${fault.exitCode} as MINIO_DEV_FAULT asks\n`);
    process.exit(fault.exitCode);
  }
  const credentials = readRootCredentials(process.env);
  const store = new FsStore(command.dataDir);
  await prepareDataDir(store);

  if (fault?.kind === 'hang-before-ready') {
    hangForever();
    return;
  }
  const server = createDevServer({
    store,
    credentials,
    temporaryCredentials: new TemporaryCredentialStore(
      fault?.kind === 'sts-expire-after-ms' ? { lifetimeOverrideMs: fault.lifetimeMs } : {},
    ),
    faults: new FaultRuntime(fault, exitAfterFlush),
    logError: (line) => process.stderr.write(`minio-dev-server: ${line}\n`),
    ...(process.env.MINIO_DEV_LOG_REQUESTS === '1' ? { logRequest: (line: string) => process.stdout.write(`${line}\n`) } : {}),
  });
  const port = await listen(server, command.host, command.port);
  process.stdout.write(`API: http://${displayHost(command.host)}:${port}\n`);
  if (fault !== undefined) {
    process.stdout.write(`Fault: ${describeFault(fault)}\n`);
  }
  stopOnSignals(server);
}

async function prepareDataDir(store: FsStore): Promise<void> {
  try {
    await mkdir(store.dataDir, { recursive: true });
    await store.init();
  } catch (error) {
    fail(`cannot use data directory "${store.dataDir}": ${(error as Error).message}; check that it is a writable directory`);
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${displayHost(host)}:${port}`;
      if (error.code === 'EADDRINUSE') {
        fail(`cannot listen on ${where}: the port is already in use; stop the other process or choose another --address`);
      }
      fail(`cannot listen on ${where}: ${error.message}`);
    });
    server.listen({ port, ...(host === '' ? {} : { host }) }, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Closes the listener, lets in-flight requests finish for a while, then exits 0. */
function stopOnSignals(server: Server): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Keeps the process alive without a listener until a signal, like a server stuck before it is ready. */
function hangForever(): void {
  const timer = setInterval(() => undefined, 60_000);
  const stop = (): void => {
    clearInterval(timer);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('Fault: hang-before-ready, so the server will not listen\n');
}

function exitAfterFlush(code: number): void {
  process.stderr.write(`minio-dev-server: exiting with code ${code} as MINIO_DEV_FAULT asks\n`);
  setImmediate(() => process.exit(code));
}

function describeFault(fault: Fault): string {
  return Object.entries(fault)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(' ');
}

function displayHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') {
    return '127.0.0.1';
  }
  return host.includes(':') ? `[${host}]` : host;
}

function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function fail(message: string): never {
  process.stderr.write(`minio-dev-server: ${message}\n`);
  process.exit(1);
}
