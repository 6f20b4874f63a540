import lockfile from 'proper-lockfile';
import { errnoCode, TenantsError } from '../errors.js';
import { ensurePrivateDir } from './atomic-file.js';
import type { StatePaths } from './paths.js';

/** How long a command waits for another one to finish its change before giving up. */
export const CHANGE_LOCK_WAIT_MS = 30_000;

/**
 * A lock whose holder has not refreshed it for this long counts as left behind by a
 * crashed command and is taken over. proper-lockfile refreshes it every STALE/2.
 */
const CHANGE_LOCK_STALE_MS = 10_000;

/**
 * Runs `change` while holding the lock on `paths.changeLock`, so that commands that
 * read and rewrite tenants.yaml, credentials and the port ledger run one at a time.
 * Waits up to CHANGE_LOCK_WAIT_MS with randomized retries.
 */
export async function withChangeLock<T>(paths: StatePaths, change: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(paths.root);
  let compromised: Error | undefined;
  const release = await acquire(paths, (error) => {
    compromised = error;
  });

  try {
    const result = await change();
    if (compromised !== undefined) {
      throw lostLockError(paths, compromised);
    }
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}

async function acquire(paths: StatePaths, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(paths.changeLock, {
      realpath: false,
      stale: CHANGE_LOCK_STALE_MS,
      retries: { retries: 1000, factor: 1.3, minTimeout: 20, maxTimeout: 300, randomize: true, maxRetryTime: CHANGE_LOCK_WAIT_MS },
      onCompromised,
    });
  } catch (error) {
    if (errnoCode(error) !== 'ELOCKED') {
      throw new TenantsError('CHANGE_LOCK_FAILED', `cannot take the lock ${paths.changeLock}.lock: ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw new TenantsError(
      'CHANGE_LOCKED',
      `another minio-tenants command has held ${paths.changeLock}.lock for over ${CHANGE_LOCK_WAIT_MS / 1000} s; ` +
        'wait for it to finish and run this command again',
      { cause: error },
    );
  }
}

function lostLockError(paths: StatePaths, cause: Error): TenantsError {
  return new TenantsError(
    'CHANGE_LOCK_LOST',
    `the lock ${paths.changeLock}.lock was taken over while this command ran (${cause.message}); ` +
      'check tenants.yaml and run the command again',
    { cause },
  );
}
