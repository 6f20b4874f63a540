import { readdir } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Logger } from '../log/logger.js';
import type { StatePaths } from '../state/paths.js';
import { readCmdline, sendSignal, waitForExit } from './process-info.js';

export interface ServerProcessInfo {
  pid: number;
  argv: string[];
}

/** Lists every process on the machine with its argument vector, read from /proc. */
export async function listProcesses(): Promise<ServerProcessInfo[]> {
  const entries = await readdir('/proc');
  const processes: ServerProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const pid = Number(entry);
    const argv = await readCmdline(pid);
    if (argv !== undefined && argv.length > 0 && pid !== process.pid) {
      processes.push({ pid, argv });
    }
  }
  return processes;
}

/**
 * True for a server launched by a supervisor of this state directory: its `--config-dir`
 * argument lies under `<stateDir>/tenants/`.
 */
export function isServerOfStateDir(argv: readonly string[], paths: StatePaths): boolean {
  const index = argv.indexOf('--config-dir');
  const configDir = index === -1 ? undefined : argv[index + 1];
  return configDir !== undefined && configDir.startsWith(`${paths.root}${sep}tenants${sep}`) && argv.includes('server');
}

/** True for any MinIO-shaped server (`… server … DATA_DIR`) that serves `dataDir`. */
export function servesDataDir(argv: readonly string[], dataDir: string): boolean {
  return argv.includes('server') && argv.at(-1) === dataDir;
}

/**
 * Stops servers that a previous supervisor of this state directory left running, for
 * example after it was killed with SIGKILL: SIGTERM to all, SIGKILL to those still
 * running after `stopTimeoutMs`. They are found by their command line, not by recorded
 * pids, so a server started just before the crash is found too, and a reused pid is not.
 */
export async function stopOrphanedServers(paths: StatePaths, stopTimeoutMs: number, logger: Logger): Promise<number[]> {
  const orphans = (await listProcesses()).filter((candidate) => isServerOfStateDir(candidate.argv, paths));
  await Promise.all(
    orphans.map(async ({ pid, argv }) => {
      logger.warn({ pid, dataDir: argv.at(-1) }, 'stopping server left running by a previous supervisor');
      sendSignal(pid, 'SIGTERM');
      if (!(await waitForExit(pid, stopTimeoutMs))) {
        logger.warn({ pid, stopTimeoutMs }, 'orphaned server ignored SIGTERM; sending SIGKILL');
        sendSignal(pid, 'SIGKILL');
        await waitForExit(pid, stopTimeoutMs);
      }
    }),
  );
  return orphans.map((orphan) => orphan.pid);
}
