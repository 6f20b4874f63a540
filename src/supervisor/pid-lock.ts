import { open, readFile, unlink } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { errnoCode } from '../errors.js';

/** Holder of a lock, as the lock file records it. */
export interface LockHolder {
  pid: number;
  startedAt: string;
}

export interface PidLockOptions<T extends LockHolder> {
  /** The lock file, created exclusively. */
  file: string;
  holder: T;
  /** True while the recorded holder still runs; a dead holder's file is taken over. */
  isHolderAlive: (holder: T) => Promise<boolean>;
  /** The error to throw when a live process holds the lock. */
  onConflict: (holder: T) => Error;
}

export interface PidLock {
  release(): Promise<void>;
}

/**
 * Takes a lock that names its holder: a JSON file created with O_EXCL. A file left by a
 * holder that died (SIGKILL, power loss) is taken over at once instead of after a stale
 * timeout. The read, check and take-over run under a short proper-lockfile lock on
 * `<file>.guard`, so two processes never both take over the same file.
 */
export async function acquirePidLock<T extends LockHolder>(options: PidLockOptions<T>): Promise<PidLock> {
  const releaseGuard = await lockfile.lock(`${options.file}.guard`, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
  });
  try {
    const current = await readLockHolder<T>(options.file);
    if (current !== undefined) {
      if (await options.isHolderAlive(current)) {
        throw options.onConflict(current);
      }
      await unlink(options.file);
    }
    const handle = await open(options.file, 'wx', 0o644);
    try {
      await handle.writeFile(`${JSON.stringify(options.holder)}\n`);
    } finally {
      await handle.close();
    }
  } finally {
    await releaseGuard();
  }

  return {
    release: async () => {
      const holder = await readLockHolder<T>(options.file);
      if (holder?.pid === options.holder.pid && holder.startedAt === options.holder.startedAt) {
        await unlink(options.file).catch(() => {});
      }
    },
  };
}

/** Returns the recorded holder, or undefined when there is no lock file or it cannot be parsed. */
export async function readLockHolder<T extends LockHolder>(file: string): Promise<T | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<T>;
    return typeof data.pid === 'number' && typeof data.startedAt === 'string' ? (data as T) : undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || error instanceof SyntaxError) {
      return undefined;
    }
    throw error;
  }
}
