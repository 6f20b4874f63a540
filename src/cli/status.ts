import type { Command } from 'commander';
import { loadConfig, resolveStateDirLeniently } from '../config/load.js';
import { TenantsError } from '../errors.js';
import { isServerOfStateDir, listProcesses } from '../supervisor/orphans.js';
import type { Config } from '../config/types.js';
import type { TenantState } from '../routing/routes-file.js';
import { statePaths, type StatePaths } from '../state/paths.js';
import { readCredentials } from '../state/credentials.js';
import { effectivePorts, readPortLedger } from '../state/ports.js';
import { readRuntimeStatus, type ExitInfo, type TenantRuntime } from '../state/runtime-status.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { colors, configPathOf, printJson, printWarning } from './output.js';

/** One tenant in `status --json`. docs/commands.md documents the shape, which stays stable. */
export interface TenantStatusRow {
  name: string;
  state: TenantState;
  pid: number | null;
  port: number | null;
  uptimeSeconds: number | null;
  restarts: number;
  accessKey: string | null;
  engine: 'minio' | 'development' | null;
  lastExit: ExitInfo | null;
  error: string | null;
}

/** The whole `status --json` document. */
export interface StatusReport {
  supervisor: { running: boolean; pid: number | null; startedAt: string | null };
  /** Pids of servers of this state directory that run without a supervisor, such as after a SIGKILL of `up`. */
  leftoverServers: number[];
  proxy: { listen: string; url: string; running: boolean };
  tenants: TenantStatusRow[];
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show every tenant with its state, pid, port, uptime, restarts and access key')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const report = await reportFor(configPathOf(command));
      if (options.json === true) {
        printJson(report);
      } else {
        printStatusTable(report);
      }
    });
}

/**
 * Builds the report from tenants.yaml, or, when the file is invalid, from the running
 * supervisor's status file alone, so that a broken edit never hides what runs.
 */
async function reportFor(configFile: string): Promise<StatusReport> {
  let config: Config;
  try {
    config = await loadConfig(configFile);
  } catch (error) {
    if (!(error instanceof TenantsError) || error.code !== 'CONFIG_INVALID') {
      throw error;
    }
    const report = await buildRuntimeReport(statePaths(await resolveStateDirLeniently(configFile)));
    const consequence = report.supervisor.running
      ? 'showing what the running supervisor runs'
      : 'no supervisor runs, so the tenants cannot be listed until the file is fixed';
    printWarning(`${error.message}\n${consequence}`);
    return report;
  }
  return buildStatusReport(config, statePaths(config.stateDir));
}

/**
 * Merges tenants.yaml with the supervisor's status file. Without a running supervisor every
 * tenant is `stopped`, so the report also works before the first `up` and after `down`.
 */
export async function buildStatusReport(config: Config, paths: StatePaths): Promise<StatusReport> {
  const supervisor = await findRunningSupervisor(paths);
  const runtime = supervisor === undefined ? undefined : await readRuntimeStatus(paths.status);
  const live = runtime !== undefined && runtime.supervisorPid === supervisor?.pid ? runtime : undefined;
  const ledger = await readPortLedger(paths);
  const now = Date.now();

  const tenants: TenantStatusRow[] = [];
  for (const tenant of config.tenants) {
    const current = live?.tenants.find((entry) => entry.name === tenant.name);
    tenants.push({
      name: tenant.name,
      state: current?.state ?? 'stopped',
      pid: null,
      uptimeSeconds: null,
      restarts: 0,
      lastExit: null,
      error: null,
      ...(current === undefined ? {} : runtimeFields(current, now)),
      port: current?.port ?? effectivePorts(config, ledger, tenant.name)?.port ?? tenant.port ?? null,
      accessKey: await accessKeyOf(paths, tenant.name),
      engine: live?.engine ?? null,
    });
  }

  return {
    supervisor: { running: supervisor !== undefined, pid: supervisor?.pid ?? null, startedAt: supervisor?.startedAt ?? null },
    leftoverServers: supervisor === undefined ? await leftoverServerPids(paths) : [],
    proxy: { listen: config.proxy.listen, url: config.proxy.publicUrl, running: live !== undefined },
    tenants,
  };
}

/** Builds the report from the status file of a running supervisor alone; it is empty when none runs. */
async function buildRuntimeReport(paths: StatePaths): Promise<StatusReport> {
  const supervisor = await findRunningSupervisor(paths);
  const runtime = supervisor === undefined ? undefined : await readRuntimeStatus(paths.status);
  const now = Date.now();
  const tenants: TenantStatusRow[] = [];
  for (const current of runtime?.tenants ?? []) {
    tenants.push({
      ...runtimeFields(current, now),
      name: current.name,
      state: current.state,
      port: current.port,
      accessKey: await accessKeyOf(paths, current.name),
      engine: runtime?.engine ?? null,
    });
  }
  return {
    supervisor: { running: supervisor !== undefined, pid: supervisor?.pid ?? null, startedAt: supervisor?.startedAt ?? null },
    leftoverServers: supervisor === undefined ? await leftoverServerPids(paths) : [],
    proxy: { listen: runtime?.proxy.listen ?? '-', url: runtime?.proxy.url ?? '-', running: runtime !== undefined },
    tenants,
  };
}

function runtimeFields(current: TenantRuntime, now: number): Pick<TenantStatusRow, 'pid' | 'uptimeSeconds' | 'restarts' | 'lastExit' | 'error'> {
  return {
    pid: current.pid,
    uptimeSeconds: current.readySince !== null ? Math.max(0, Math.round((now - Date.parse(current.readySince)) / 1000)) : null,
    restarts: current.restarts,
    lastExit: current.lastExit,
    error: current.error,
  };
}

function accessKeyOf(paths: StatePaths, name: string): Promise<string | null> {
  return readCredentials(paths, name).then(
    (credentials) => credentials.accessKey,
    () => null,
  );
}

async function leftoverServerPids(paths: StatePaths): Promise<number[]> {
  return (await listProcesses()).filter((candidate) => isServerOfStateDir(candidate.argv, paths)).map((candidate) => candidate.pid);
}

const STATE_COLORS: Record<TenantState, (text: string) => string> = {
  running: colors.green,
  starting: colors.cyan,
  restarting: colors.yellow,
  failed: colors.red,
  stopped: colors.dim,
};

function printStatusTable(report: StatusReport): void {
  const header = ['NAME', 'STATE', 'PID', 'PORT', 'UPTIME', 'RESTARTS', 'ACCESS KEY', 'ENGINE'];
  const rows = report.tenants.map((row) => [
    row.name,
    row.state,
    row.pid?.toString() ?? '-',
    row.port?.toString() ?? '-',
    row.uptimeSeconds === null ? '-' : formatDuration(row.uptimeSeconds),
    row.restarts.toString(),
    row.accessKey ?? '-',
    row.engine === 'development' ? 'development server' : (row.engine ?? '-'),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (cells: string[], colorState = false): string =>
    cells
      .map((cell, column) => {
        const padded = cell.padEnd(widths[column] ?? 0);
        return colorState && column === 1 ? (STATE_COLORS[cell as TenantState] ?? String)(padded) : padded;
      })
      .join('  ')
      .trimEnd();

  if (report.leftoverServers.length > 0) {
    process.stdout.write(
      `${colors.yellow('warning:')} ${report.leftoverServers.length} server(s) of this state directory run without a supervisor ` +
        `(pid ${report.leftoverServers.join(', ')}), probably left by one that was killed; "minio-tenants down" stops them\n`,
    );
  }
  const supervisorLine = report.supervisor.running
    ? `supervisor: running (pid ${report.supervisor.pid}, since ${report.supervisor.startedAt})`
    : 'supervisor: not running';
  const proxyLine = `proxy: ${report.proxy.url} (listen ${report.proxy.listen}, ${report.proxy.running ? 'running' : 'stopped'})`;
  process.stdout.write(`${supervisorLine}\n${proxyLine}\n\n`);
  if (rows.length === 0) {
    process.stdout.write('no tenants; add one with "minio-tenants add <name>"\n');
    return;
  }
  process.stdout.write(`${format(header)}\n`);
  for (const row of rows) {
    process.stdout.write(`${format(row, true)}\n`);
  }
  for (const row of report.tenants.filter((tenant) => tenant.error !== null)) {
    process.stdout.write(`\n${colors.red(row.name)}: ${row.error}\n`);
  }
}

/** `3d4h`, `2h5m`, `4m10s` or `12s`. */
export function formatDuration(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) {
    return `${days}d${hours}h`;
  }
  if (hours > 0) {
    return `${hours}h${minutes}m`;
  }
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
