import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createLogger } from '../log/logger.js';
import { statePaths } from '../state/paths.js';
import { readLogTail } from '../supervisor/log-tail.js';
import { startSupervisor } from '../supervisor/run-supervisor.js';
import type { TenantStartResult } from '../supervisor/supervisor.js';
import { supervisorLogFile } from '../supervisor/tenant-specs.js';
import { colors, configPathOf, printError, printWarning } from './output.js';

const CLI_SCRIPT = fileURLToPath(new URL('../../bin/minio-tenants.js', import.meta.url));

/** Messages a detached supervisor sends to the `up --detach` that started it. */
type DetachMessage =
  | { type: 'warning'; message: string }
  | { type: 'tenant'; result: TenantStartResult }
  | { type: 'ready'; proxyUrl: string; failed: string[] }
  | { type: 'error'; message: string };

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('Start every tenant server and the proxy, and restart servers that exit')
    .option('-d, --detach', 'return once every tenant is ready and keep the supervisor running in the background')
    .addOption(new Option('--supervisor-child', 'run as the background supervisor of "up --detach"').hideHelp())
    .action(async (options: { detach?: boolean; supervisorChild?: boolean }, command: Command) => {
      const configFile = configPathOf(command);
      const config = await loadConfig(configFile);
      if (options.detach === true) {
        process.exitCode = await detach(config);
      } else {
        process.exitCode = await runForeground(config, options.supervisorChild === true);
      }
    });
}

/**
 * Runs the supervisor in this process until SIGINT or SIGTERM. As the child of `up
 * --detach`, it reports progress over the IPC channel instead of printing it.
 */
async function runForeground(config: Config, isDetachedChild: boolean): Promise<number> {
  const paths = statePaths(config.stateDir);
  const logger = createLogger({ file: supervisorLogFile(paths) });
  const report = (message: DetachMessage): void => {
    if (isDetachedChild && process.send !== undefined) {
      process.send(message);
    }
  };

  const starting = startSupervisor(config, {
    logger,
    onEngine: (engine) => {
      if (engine.kind === 'development') {
        const message =
          'no "minio" binary on PATH; using the embedded development server, which is for trying ' +
          'minio-tenants and for tests, not for production data';
        report({ type: 'warning', message });
        if (!isDetachedChild) {
          printWarning(message);
        }
      }
    },
    onTenantSettled: (result) => {
      report({ type: 'tenant', result });
      if (!isDetachedChild) {
        printTenantLine(result);
      }
    },
  });

  // A signal during start-up waits for the start to finish and then stops everything, so
  // that no server that was just spawned outlives the supervisor.
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received; stopping');
    if (!isDetachedChild && stopping === undefined) {
      process.stdout.write(`${signal}: stopping the proxy and every server\n`);
    }
    stopping ??= starting
      .then(
        (started) => started.shutdown(),
        () => undefined,
      )
      .then(() => {
        if (!isDetachedChild) {
          process.stdout.write('stopped\n');
        }
        process.exit(0);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'signal received; reloading tenants.yaml');
    void starting
      .then((started) => started.reload())
      .catch((error: unknown) => logger.error({ err: error }, 'reload failed; keeping the running tenants'));
  });

  let running: Awaited<typeof starting>;
  try {
    running = await starting;
  } catch (error) {
    report({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  if (stopping !== undefined) {
    await stopping;
  }

  const failed = running.results.filter((result) => !result.ready).map((result) => result.name);
  report({ type: 'ready', proxyUrl: config.proxy.publicUrl, failed });
  if (!isDetachedChild) {
    process.stdout.write(
      `proxy listening on ${running.proxy.address}; S3 endpoint ${colors.bold(config.proxy.publicUrl)}\n` +
        'press Ctrl-C to stop\n',
    );
  }
  if (isDetachedChild) {
    process.disconnect?.();
  }
  // The proxy server and the child processes keep the event loop alive until a signal.
  await new Promise<void>(() => {});
  return 0;
}

function printTenantLine(result: TenantStartResult): void {
  if (result.ready) {
    const moved = result.movedFromPort === null ? '' : `; moved from port ${result.movedFromPort}, which another program uses`;
    process.stdout.write(`${colors.green('ready')}   ${result.name} (server 127.0.0.1:${result.port}${moved})\n`);
  } else {
    process.stdout.write(`${colors.red('failed')}  ${result.name}: ${result.error ?? 'stopped before it was ready'}\n`);
  }
}

/**
 * Starts `up --supervisor-child` in the background and relays its progress. Returns 0 once
 * every tenant is ready, 1 when one failed or the supervisor could not start.
 */
async function detach(config: Config): Promise<number> {
  const paths = statePaths(config.stateDir);
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });
  const logFile = supervisorLogFile(paths);
  const output = await open(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [CLI_SCRIPT, '--config', config.file, 'up', '--supervisor-child'], {
    detached: true,
    stdio: ['ignore', output.fd, output.fd, 'ipc'],
  });
  await output.close();

  let reason: string | undefined;
  const outcome = await new Promise<number>((resolve) => {
    child.on('message', (message: DetachMessage) => {
      switch (message.type) {
        case 'warning':
          printWarning(message.message);
          break;
        case 'tenant':
          printTenantLine(message.result);
          break;
        case 'error':
          reason = message.message;
          break;
        case 'ready':
          if (message.failed.length > 0) {
            printError(
              `${message.failed.length} tenant(s) failed to start: ${message.failed.join(', ')}; ` +
                `the supervisor (pid ${child.pid}) keeps running the others; see "minio-tenants status" and ${logFile}`,
            );
            resolve(1);
          } else {
            process.stdout.write(`supervisor running in the background (pid ${child.pid}); S3 endpoint ${config.proxy.publicUrl}\n`);
            resolve(0);
          }
          break;
      }
    });
    child.on('exit', (code, signal) => {
      if (reason !== undefined) {
        printError(reason);
        resolve(1);
        return;
      }
      void readLogTail(logFile, 5).then((tail) => {
        printError(`the supervisor exited before it was ready (${signal ?? `code ${code}`}); last lines of ${logFile}:\n${tail.join('\n')}`);
        resolve(1);
      });
    });
  });

  child.removeAllListeners();
  if (child.connected) {
    child.disconnect();
  }
  child.unref();
  return outcome;
}
