import { open } from 'node:fs/promises';

/** The last `lines` lines of a file, reading at most the last 16 KiB. Empty when there is no file. */
export async function readLogTail(file: string, lines: number): Promise<string[]> {
  const maxBytes = 16 * 1024;
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '').slice(-lines);
  } finally {
    await handle.close();
  }
}
