import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { errnoCode, TenantsError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { readRoutesFile, type RoutesTable } from '../routing/routes-file.js';
import type { RouteIndex } from './route-index.js';

export interface RoutesReloaderOptions {
  file: string;
  logger: Logger;
  /** Builds the index that requests use; called once per successful load. */
  buildIndex: (table: RoutesTable) => RouteIndex;
  /** Quiet time after the last change event before the file is read. */
  debounceMs: number;
  /** Interval of the stat poll that catches changes fs.watch misses. */
  pollIntervalMs: number;
}

const MISSING = 'missing';

/**
 * Keeps the routing table current. The supervisor replaces the file by rename, so the
 * directory is watched (a watch on the file itself would stay on the replaced inode),
 * and a stat poll is the fallback for file systems where fs.watch reports nothing.
 * Loads run one at a time. An invalid or missing file keeps the last good table.
 */
export class RoutesReloader {
  /** The index of the last valid table, or undefined while none was loaded. */
  current: RouteIndex | undefined;
  /** Stat signature of the file as last read, so the poll reloads only on a change. */
  private signature: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: RoutesReloaderOptions) {}

  /**
   * Reads the table, queued behind any load in progress. Rejects with a TenantsError
   * when the file is missing or invalid; the previous table then stays in use.
   */
  reload(): Promise<void> {
    const load = this.queue.then(() => this.loadOnce());
    this.queue = load.catch(() => undefined);
    return load;
  }

  /** Starts watching the directory and polling the file. */
  start(): void {
    this.watcher = this.startWatcher();
    this.pollTimer = setInterval(() => void this.pollOnce(), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.debounceTimer);
  }

  private async loadOnce(): Promise<void> {
    const { file, logger } = this.options;
    this.signature = await statSignature(file);
    if (this.signature === MISSING) {
      // Requests keep using the previous table, or get 503 while there is none.
      logger.warn({ file, tenants: this.current?.tenantCount ?? 0 }, 'routing table file missing');
      throw new TenantsError('ROUTES_MISSING', `the routing table ${file} does not exist; start the supervisor to write it`);
    }

    let table: RoutesTable;
    try {
      table = await readRoutesFile(file);
    } catch (error) {
      logger.error({ file, reason: (error as Error).message }, 'routing table rejected, keeping the previous table');
      throw error;
    }
    this.current = this.options.buildIndex(table);
    logger.info({ file, tenants: this.current.tenantCount }, 'routing table loaded');
  }

  private startWatcher(): FSWatcher | undefined {
    const { file, logger } = this.options;
    const name = basename(file);
    try {
      const watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) {
          this.scheduleReload();
        }
      });
      watcher.on('error', (error) => {
        logger.warn({ file, err: error }, 'watching the routing table failed, polling only');
        watcher.close();
      });
      return watcher;
    } catch (error) {
      logger.warn({ file, err: error }, 'cannot watch the routing table directory, polling only');
      return undefined;
    }
  }

  private async pollOnce(): Promise<void> {
    const signature = await statSignature(this.options.file);
    if (signature !== this.signature && !this.stopped) {
      // The poll interval already spaces loads out, so no debounce is needed.
      clearTimeout(this.debounceTimer);
      this.reload().catch(() => undefined);
    }
  }

  /** Coalesces the several events of one rename into one load. */
  private scheduleReload(): void {
    if (this.stopped) {
      return;
    }
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      // Failures were logged by loadOnce, and the previous table stays in use.
      this.reload().catch(() => undefined);
    }, this.options.debounceMs);
    this.debounceTimer.unref();
  }
}

/**
 * Returns inode, size and mtime as one string, MISSING when the file does not exist, or
 * the error code for other stat failures (readRoutesFile then reports them).
 */
async function statSignature(file: string): Promise<string> {
  try {
    const info = await stat(file);
    return `${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch (error) {
    const code = errnoCode(error);
    return code === 'ENOENT' ? MISSING : `stat failed: ${code ?? 'unknown'}`;
  }
}
