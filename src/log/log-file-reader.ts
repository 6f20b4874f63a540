import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../errors.js';

const READ_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

export interface LastLines {
  /** The last lines as stored, newlines included. */
  data: Buffer;
  /** Size of the file when it was read; following continues from here. */
  endOffset: number;
}

/**
 * Reads the last `count` lines of a file, reading backwards in chunks so that only those lines
 * and at most one chunk more are read. A final line without a newline counts as a line.
 * Throws ENOENT when the file does not exist.
 */
export async function readLastLines(file: string, count: number): Promise<LastLines> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (count <= 0 || size === 0) {
      return { data: Buffer.alloc(0), endOffset: size };
    }

    const chunks: Buffer[] = [];
    let start = size;
    let newlinesFound = 0;
    // A newline in the last byte ends the last line; it does not separate two lines.
    let lastByte = true;
    while (start > 0) {
      const length = Math.min(READ_CHUNK_BYTES, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, start);
      chunks.unshift(chunk);

      for (let index = length - 1; index >= 0; index -= 1) {
        const separates = chunk[index] === NEWLINE && !lastByte;
        lastByte = false;
        if (separates) {
          newlinesFound += 1;
        }
        if (newlinesFound === count) {
          return { data: Buffer.concat(chunks).subarray(index + 1), endOffset: size };
        }
      }
    }
    return { data: Buffer.concat(chunks), endOffset: size };
  } finally {
    await handle.close();
  }
}

export interface FollowOptions {
  /** Offset to start from, usually `endOffset` of readLastLines. */
  fromOffset: number;
  /** Time between two checks of the file's size. */
  pollIntervalMs: number;
  /** Ends the loop; followFile then resolves. */
  signal: AbortSignal;
  onData: (data: Buffer) => void;
}

/**
 * Calls `onData` with every byte appended to `file`, until `signal` aborts. It polls the size
 * rather than using fs.watch, because a truncation does not produce a reliable watch event
 * on every platform. A file that shrinks was rotated by copy-then-truncate, so reading
 * continues from offset 0. A missing file is waited for.
 *
 * NOTE: lines appended after the last check and before a rotation are in `<file>.1` and are
 * not printed. A file that is rotated and grows past the old offset within one interval
 * looks as if it had not been rotated, so its first bytes up to that offset are skipped.
 */
export async function followFile(file: string, options: FollowOptions): Promise<void> {
  let offset = options.fromOffset;
  while (!options.signal.aborted) {
    const size = await fileSize(file);
    if (size !== undefined && size < offset) {
      offset = 0;
    }
    if (size !== undefined && size > offset) {
      offset += await readRange(file, offset, size, options.onData);
    }
    await sleep(options.pollIntervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** Returns the size of `file` in bytes, or undefined when it does not exist. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

/** Passes the bytes from `start` up to `end` to `onData` in chunks and returns the count read. */
async function readRange(file: string, start: number, end: number, onData: (data: Buffer) => void): Promise<number> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    // Removed since the size check; the next check waits for it to come back.
    if (errnoCode(error) === 'ENOENT') {
      return 0;
    }
    throw error;
  }
  try {
    let position = start;
    while (position < end) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, end - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) {
        break;
      }
      onData(chunk.subarray(0, bytesRead));
      position += bytesRead;
    }
    return position - start;
  } finally {
    await handle.close();
  }
}
