import { closeSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { fileSize } from '../log/log-file-reader.js';

export interface RotationLimits {
  /** A file larger than this, in bytes, is rotated. */
  maxBytes: number;
  /** Rotated files kept: `<file>.1` (newest) to `<file>.<keep>`. */
  keep: number;
}

const COPY_CHUNK_BYTES = 64 * 1024;

/**
 * Rotates `file` by copy-then-truncate when it is larger than `limits.maxBytes`, and returns
 * whether it did. Writers keep their O_APPEND descriptors: after the truncation the kernel
 * places their next write at the new end of file, offset 0.
 *
 * It copies the file to `<file>.rotating`, then reads the tail that arrived during the copy
 * and truncates the file in one synchronous step. It appends that tail to the copy, shifts
 * `<file>.k` to `<file>.(k+1)` (deleting those beyond `keep`) and renames the copy to
 * `<file>.1`. Until the truncation the original file is untouched, so a failure before it
 * loses nothing.
 *
 * NOTE: bytes that a writer appends between the last read that returned end of file and the
 * ftruncate are lost. The two are adjacent synchronous system calls in this process, so the
 * window is short (not measured). It cannot be closed, because node:fs has no call that reads
 * and truncates a file atomically, and the writers cannot be asked to reopen their
 * descriptors. A large write that is in progress at that moment can lose its end.
 */
export async function rotateIfLarger(file: string, limits: RotationLimits): Promise<boolean> {
  return (await rotateLargeFile(file, limits)) !== undefined;
}

/** Like rotateIfLarger, and returns the bytes moved to `<file>.1`, or undefined when the file was not rotated. */
async function rotateLargeFile(file: string, limits: RotationLimits): Promise<number | undefined> {
  const size = await fileSize(file);
  if (size === undefined || size <= limits.maxBytes) {
    return undefined;
  }

  const staging = `${file}.rotating`;
  const copied = await copyToEnd(file, staging, 2 * size).catch(async (error: unknown) => {
    await unlinkIfPresent(staging);
    throw error;
  });
  const tail = readTailAndTruncate(file, copied);
  await appendTo(staging, tail);

  await shiftRotated(file, limits.keep);
  await rename(staging, `${file}.1`);
  return copied + tail.length;
}

export interface LogRotatorOptions {
  /** The files to check, called on every check so that tenants added later are included. */
  files: () => string[];
  maxBytes: number;
  keep: number;
  /** Time between the end of one check and the start of the next; 1000 when missing. */
  intervalMs?: number;
  logger: Logger;
}

/**
 * Checks a set of log files on a timer and rotates each one that exceeds the size limit.
 * A check runs only after the previous one finished, so two rotations of one file never overlap.
 */
export class LogRotator {
  private readonly options: LogRotatorOptions;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: LogRotatorOptions) {
    if (!Number.isInteger(options.keep) || options.keep < 1) {
      throw new RangeError(`LogRotator keep must be an integer of at least 1, got ${options.keep}`);
    }
    if (!(options.maxBytes > 0)) {
      throw new RangeError(`LogRotator maxBytes must be positive, got ${options.maxBytes}`);
    }
    this.options = options;
    this.intervalMs = options.intervalMs ?? 1000;
  }

  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    this.schedule();
  }

  /** Clears the timer. A check that is in progress finishes, and no new one starts. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Checks every file once; never rejects, because each failure is logged with its file. */
  async checkNow(): Promise<void> {
    const limits = { maxBytes: this.options.maxBytes, keep: this.options.keep };
    for (const file of this.options.files()) {
      try {
        const bytes = await rotateLargeFile(file, limits);
        if (bytes !== undefined) {
          this.options.logger.info({ file, bytes }, 'log rotated');
        }
      } catch (error) {
        this.options.logger.warn({ file, err: error }, 'log rotation failed');
      }
    }
  }

  private schedule(): void {
    // unref: a pending check must not keep the supervisor process alive on its own.
    this.timer = setTimeout(() => {
      void this.checkNow().then(() => {
        if (this.running) {
          this.schedule();
        }
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}

/**
 * Copies `source` into a new `target` until a read returns end of file or `maxBytes` are
 * copied, and returns the bytes copied. The bound ends the copy when a writer outpaces it;
 * the synchronous tail read then takes the rest.
 */
async function copyToEnd(source: string, target: string, maxBytes: number): Promise<number> {
  const input = await open(source, 'r');
  try {
    const output = await open(target, 'w', 0o600);
    try {
      const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      let position = 0;
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) {
          return position;
        }
        await output.write(buffer, 0, bytesRead);
        position += bytesRead;
        if (position >= maxBytes) {
          return position;
        }
      }
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Reads what was appended after `from` and truncates the file, without yielding to the event
 * loop in between, so that no other work of this process widens the loss window.
 * The tail is the output of the writers during one asynchronous read, so it is small.
 */
function readTailAndTruncate(file: string, from: number): Buffer {
  const fd = openSync(file, 'r+');
  try {
    const chunks: Buffer[] = [];
    let position = from;
    for (;;) {
      const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      const bytesRead = readSync(fd, chunk, 0, chunk.length, position);
      if (bytesRead === 0) {
        break;
      }
      chunks.push(chunk.subarray(0, bytesRead));
      position += bytesRead;
    }
    ftruncateSync(fd, 0);
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

async function appendTo(file: string, data: Buffer): Promise<void> {
  if (data.length === 0) {
    return;
  }
  const handle = await open(file, 'a');
  try {
    await handle.write(data);
  } finally {
    await handle.close();
  }
}

/**
 * Renames `<file>.k` to `<file>.(k+1)` from the oldest down, so that `<file>.1` is free.
 * Files numbered `keep` and above are deleted first, which also removes those left over
 * from a larger `keep` in an earlier configuration.
 */
async function shiftRotated(file: string, keep: number): Promise<void> {
  const prefix = `${basename(file)}.`;
  const directory = dirname(file);
  for (const entry of await readdir(directory)) {
    const suffix = entry.startsWith(prefix) ? entry.slice(prefix.length) : '';
    if (/^[0-9]+$/.test(suffix) && Number(suffix) >= keep) {
      await unlinkIfPresent(join(directory, entry));
    }
  }

  for (let index = keep - 1; index >= 1; index -= 1) {
    await renameIfPresent(`${file}.${index}`, `${file}.${index + 1}`);
  }
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw error;
    }
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw error;
    }
  }
}
