import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { TenantState } from '../routing/routes-file.js';
import { statePaths, type StatePaths } from '../state/paths.js';
import { readCredentials } from '../state/credentials.js';
import { effectivePorts, readPortLedger } from '../state/ports.js';
import { readRuntimeStatus, type ExitInfo } from '../state/runtime-status.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { colors, configPathOf, printJson } from './output.js';

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
  proxy: { listen: string; url: string; running: boolean };
  tenants: TenantStatusRow[];
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show every tenant with its state, pid, port, uptime, restarts and access key')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const config = await loadConfig(configPathOf(command));
      const report = await buildStatusReport(config, statePaths(config.stateDir));
      if (options.json === true) {
        printJson(report);
      } else {
        printStatusTable(report);
      }
    });
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
    const accessKey = await readCredentials(paths, tenant.name).then(
      (credentials) => credentials.accessKey,
      () => null,
    );
    tenants.push({
      name: tenant.name,
      state: current?.state ?? 'stopped',
      pid: current?.pid ?? null,
      port: current?.port ?? effectivePorts(config, ledger, tenant.name)?.port ?? null,
      uptimeSeconds: current?.readySince != null ? Math.max(0, Math.round((now - Date.parse(current.readySince)) / 1000)) : null,
      restarts: current?.restarts ?? 0,
      accessKey,
      engine: live?.engine ?? null,
      lastExit: current?.lastExit ?? null,
      error: current?.error ?? null,
    });
  }

  return {
    supervisor: { running: supervisor !== undefined, pid: supervisor?.pid ?? null, startedAt: supervisor?.startedAt ?? null },
    proxy: { listen: config.proxy.listen, url: config.proxy.publicUrl, running: live !== undefined },
    tenants,
  };
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
