import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when a process with this pid exists and has not exited (zombies count as exited). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') {
      return false;
    }
  }
  return processState(pid) !== 'Z';
}

/**
 * Returns the state letter from /proc/<pid>/stat (R, S, D, Z, ...), or undefined when the process
 * is gone. The letter follows the command name, which is in parentheses and may contain spaces.
 */
function processState(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2, raw.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** Returns the argument vector of a running process from /proc/<pid>/cmdline, or undefined when it is gone. */
export async function readCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part !== '');
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its command line passes `matches`. Checked before
 * signalling a pid read from a file, so that a pid the kernel reused for an unrelated
 * process is never killed.
 */
export async function isOurProcess(pid: number, matches: (argv: string[]) => boolean): Promise<boolean> {
  if (!isAlive(pid)) {
    return false;
  }
  const argv = await readCmdline(pid);
  return argv !== undefined && matches(argv);
}

/** Polls until the process is gone. Returns false when it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) {
      return false;
    }
    await sleep(pollMs);
  }
  return true;
}

/** Sends a signal; returns false when the process was already gone. */
export function sendSignal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
