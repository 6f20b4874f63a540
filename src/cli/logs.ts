import type { Command } from 'commander';
import { loadConfig, resolveStateDirLeniently } from '../config/load.js';
import { assertTenantName } from '../config/tenant-name.js';
import type { Config } from '../config/types.js';
import { errnoCode, TenantsError } from '../errors.js';
import { fileSize, followFile, readLastLines } from '../log/log-file-reader.js';
import { statePaths } from '../state/paths.js';
import { findTenant } from '../state/tenant-store.js';
import { supervisorLogFile } from '../supervisor/tenant-specs.js';
import { configPathOf, printWarning } from './output.js';

const DEFAULT_LINES = 50;
const FOLLOW_POLL_INTERVAL_MS = 200;
/** The name that selects the supervisor's own log instead of a tenant's. */
const SUPERVISOR_LOG_NAME = 'supervisor';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("Print the last lines of a tenant server's log, or of the supervisor's log")
    .argument('<name>', `tenant name as in tenants.yaml, or "${SUPERVISOR_LOG_NAME}"`)
    .option('-f, --follow', 'keep printing lines as they are appended, until Ctrl-C')
    .option('-n, --lines <count>', 'number of lines to print first', String(DEFAULT_LINES))
    .action(async (name: string, options: { follow?: boolean; lines: string }, command: Command) => {
      const lineCount = parseLineCount(options.lines);
      const file = await logFileOf(configPathOf(command), name);

      const last = await readExistingLog(file, name, lineCount);
      process.stdout.write(last.data);
      if (options.follow === true) {
        await followUntilSignal(file, last.endOffset);
      }
    });
}

function parseLineCount(text: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new TenantsError('INVALID_ARGUMENTS', `--lines must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * Returns the log file of a tenant or of the supervisor. A name that is not in tenants.yaml
 * is accepted while its log exists (a removed tenant's log is kept), and otherwise gets
 * UNKNOWN_TENANT listing the known tenants. An invalid tenants.yaml is warned about, not
 * fatal, because the logs are what an operator reads to find out what went wrong.
 */
async function logFileOf(configFile: string, name: string): Promise<string> {
  let config: Config | undefined;
  try {
    config = await loadConfig(configFile);
  } catch (error) {
    if (!(error instanceof TenantsError) || error.code !== 'CONFIG_INVALID') {
      throw error;
    }
    printWarning(error.message.split('\n')[0] ?? error.message);
  }
  const paths = statePaths(config?.stateDir ?? (await resolveStateDirLeniently(configFile)));
  if (name === SUPERVISOR_LOG_NAME) {
    return supervisorLogFile(paths);
  }
  assertTenantName(name);
  const file = paths.log(name);
  const known = config === undefined || config.tenants.some((tenant) => tenant.name === name);
  if (!known && (await fileSize(file)) === undefined) {
    findTenant(config as Config, name);
  }
  return file;
}

async function readExistingLog(file: string, name: string, lineCount: number): ReturnType<typeof readLastLines> {
  try {
    return await readLastLines(file, lineCount);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw new TenantsError('LOG_UNREADABLE', `failed to read ${file}: ${(error as Error).message}; check that the file is readable by this user`, { cause: error });
    }
    const subject = name === SUPERVISOR_LOG_NAME ? 'the supervisor' : `tenant ${name}`;
    throw new TenantsError(
      'LOG_MISSING',
      `${subject} has no log yet (${file} does not exist) because it has not run yet; start it with "minio-tenants up"`,
    );
  }
}

/** Follows the file until SIGINT or SIGTERM, then returns so that the CLI exits with 0. */
async function followUntilSignal(file: string, fromOffset: number): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await followFile(file, {
      fromOffset,
      pollIntervalMs: FOLLOW_POLL_INTERVAL_MS,
      signal: controller.signal,
      onData: (data) => process.stdout.write(data),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
