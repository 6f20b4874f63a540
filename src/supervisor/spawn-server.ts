import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { LaunchCommand } from './launch-command.js';

export interface ServerExit {
  code: number | null;
  signal: string | null;
}

export interface ServerProcess {
  /** -1 when the spawn itself failed (ENOENT, EACCES); `exited` then settles at once. */
  pid: number;
  /** Settles once when the process has exited, never rejects. */
  exited: Promise<ServerExit>;
}

/** The one side effect the tenant runner needs, so that tests can replace it. */
export type SpawnServer = (command: LaunchCommand, logFile: string) => ServerProcess;

/**
 * Spawns a server in its own process group, so that a Ctrl-C in the supervisor's terminal
 * reaches only the supervisor, which then stops the servers in order. Output is appended to
 * `logFile` through an O_APPEND descriptor that the server owns, so the server keeps
 * logging if the supervisor dies, and truncating the file to rotate it is safe.
 *
 * node:child_process is used here rather than execa because execa 9.6's types reject a
 * file descriptor held in a variable for `stdout`.
 */
export const spawnServer: SpawnServer = (command, logFile) => {
  const logFd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(command.file, command.args, {
      env: command.env,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    const exited = new Promise<ServerExit>((resolve) => {
      child.once('error', () => resolve({ code: 127, signal: null }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return { pid: child.pid ?? -1, exited };
  } finally {
    closeSync(logFd);
  }
};
