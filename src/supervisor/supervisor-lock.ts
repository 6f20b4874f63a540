import { open, readFile, unlink } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { TenantsError, errnoCode } from '../errors.js';
import type { StatePaths } from '../state/paths.js';
import { isOurProcess } from './process-info.js';

/** Contents of `<stateDir>/supervisor.json` while a supervisor runs. */
export interface SupervisorInfo {
  pid: number;
  startedAt: string;
}

export interface SupervisorLock {
  release(): Promise<void>;
}

/**
 * Makes this process the one supervisor of the state directory. `supervisor.json` is
 * created exclusively; one left by a supervisor that died (SIGKILL, power loss) is taken
 * over once its pid is gone or belongs to another program. The take-over runs under a
 * short proper-lockfile lock, so two `up` commands never both take over the same file.
 */
export async function acquireSupervisorLock(paths: StatePaths): Promise<SupervisorLock> {
  const releaseGuard = await lockfile.lock(paths.supervisorLock, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    const holder = await readSupervisorInfo(paths);
    if (holder !== undefined) {
      if (await isSupervisorAlive(holder)) {
        throw new TenantsError(
          'SUPERVISOR_RUNNING',
          `a supervisor already runs for ${paths.root} (pid ${holder.pid}, started ${holder.startedAt}); ` +
            'use "minio-tenants status" to see it or "minio-tenants down" to stop it',
        );
      }
      await unlink(paths.supervisorInfo);
    }
    await writeInfoExclusive(paths.supervisorInfo, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
  } finally {
    await releaseGuard();
  }

  return {
    release: async () => {
      const current = await readSupervisorInfo(paths);
      if (current?.pid === process.pid) {
        await unlink(paths.supervisorInfo).catch(() => {});
      }
    },
  };
}

/** The running supervisor's info, or undefined when none runs (a stale file is ignored). */
export async function findRunningSupervisor(paths: StatePaths): Promise<SupervisorInfo | undefined> {
  const info = await readSupervisorInfo(paths);
  return info !== undefined && (await isSupervisorAlive(info)) ? info : undefined;
}

/** A supervisor is `node …/minio-tenants[.js] … up …`, in the foreground or detached. */
export function isSupervisorAlive(info: SupervisorInfo): Promise<boolean> {
  return isOurProcess(info.pid, (argv) => argv.includes('up') && argv.some((arg) => /minio-tenants(\.js)?$/.test(arg)));
}

async function readSupervisorInfo(paths: StatePaths): Promise<SupervisorInfo | undefined> {
  try {
    const data = JSON.parse(await readFile(paths.supervisorInfo, 'utf8')) as Partial<SupervisorInfo>;
    if (typeof data.pid === 'number' && typeof data.startedAt === 'string') {
      return { pid: data.pid, startedAt: data.startedAt };
    }
    return undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || error instanceof SyntaxError) {
      return undefined;
    }
    throw error;
  }
}

async function writeInfoExclusive(file: string, info: SupervisorInfo): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(info)}\n`);
  } finally {
    await handle.close();
  }
}
