import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `content` to `file` so that a reader sees the old or the new content, never a
 * part: a temporary file in the same directory is created with `mode`, synced and renamed
 * over the target. Creating it with the mode (and not chmod afterwards) means a secret is
 * never readable by others, even for a moment.
 */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    // The umask may have cleared bits of `mode`; chmod sets exactly the requested bits.
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();

  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Creates `dir` and its missing parents with mode 0700, and sets 0700 on `dir` itself. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
