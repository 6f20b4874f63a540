import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { TenantsError } from '../errors.js';
import { printError } from './output.js';
type Register = (program: Command) => void;

/**
 * Loaders of the commands' modules, in help order. Only the module of the command being run
 * is imported, because importing all of them costs about 150 ms, which `status` would pay
 * on every call.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register[]>]> = [
  ['add', async () => [(await import('./add.js')).registerAdd]],
  ['creds', async () => [(await import('./creds.js')).registerCreds]],
  ['remove', async () => [(await import('./remove.js')).registerRemove]],
  ['up', async () => [(await import('./up.js')).registerUp]],
  ['status', async () => [(await import('./status.js')).registerStatus]],
  ['down', async () => [(await import('./down.js')).registerDown]],
  ['restart', async () => [(await import('./restart.js')).registerRestart]],
  ['reload', async () => [(await import('./restart.js')).registerReload]],
  ['logs', async () => [(await import('./logs.js')).registerLogs]],
  ['presign', async () => [(await import('./presign.js')).registerPresign]],
  ['proxy', async () => [(await import('./proxy.js')).registerProxy]],
];

/**
 * Builds the command tree. With the name of a known command in `argv`, only that command
 * is registered. Otherwise (help, a typo) all are, so that help and suggestions list them.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('minio-tenants')
    .description('Run one MinIO server per tenant behind a proxy that routes S3 requests by access key')
    .version(packageVersion(), '-V, --version', 'print the minio-tenants version')
    .option('-c, --config <file>', 'tenants.yaml to use (default: $MINIO_TENANTS_CONFIG, else ./tenants.yaml)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const requested = commandName(argv.slice(2));
  const selected = COMMANDS.filter(([name]) => name === requested);
  for (const [, load] of selected.length > 0 ? selected : COMMANDS) {
    for (const register of await load()) {
      register(program);
    }
  }
  return program;
}

/** Returns the first argument that is neither a global option nor the value of `--config`. */
export function commandName(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (arg === '-c' || arg === '--config') {
      index += 1;
    } else if (!arg.startsWith('-')) {
      return arg;
    }
  }
  return undefined;
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** CLI entry point: runs the command and funnels every error to one message and exit code. */
export async function main(argv: string[]): Promise<void> {
  // `minio-tenants status | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      process.exit(0);
    }
    throw error;
  });
  try {
    const program = await buildProgram(argv);
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
