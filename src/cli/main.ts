import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { TenantsError } from '../errors.js';
import { printError } from './output.js';
import { registerAdd } from './add.js';
import { registerCreds } from './creds.js';
import { registerRemove } from './remove.js';
import { registerUp } from './up.js';
import { registerStatus } from './status.js';
import { registerDown } from './down.js';
import { registerProxy } from './proxy.js';
import { registerReload, registerRestart } from './restart.js';
import { registerLogs } from './logs.js';
import { registerPresign } from './presign.js';

/** Builds the command tree. Every command module adds itself with a `register*` function. */
export function buildProgram(): Command {
  const program = new Command('minio-tenants')
    .description('Run one MinIO server per tenant behind a proxy that routes S3 requests by access key')
    .version(packageVersion(), '-V, --version', 'print the minio-tenants version')
    .option('-c, --config <file>', 'tenants.yaml to use (default: $MINIO_TENANTS_CONFIG, else ./tenants.yaml)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  registerAdd(program);
  registerCreds(program);
  registerRemove(program);
  registerUp(program);
  registerStatus(program);
  registerDown(program);
  registerRestart(program);
  registerReload(program);
  registerProxy(program);
  registerLogs(program);
  registerPresign(program);
  return program;
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** CLI entry point: runs the command and funnels every error to one message and exit code. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version exit with 0.
    return error.exitCode;
  }
  if (error instanceof TenantsError) {
    printError(error.message);
    return error.exitCode;
  }
  printError(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
}
