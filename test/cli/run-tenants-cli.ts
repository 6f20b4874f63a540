import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runCli as runTenantsCli } from '../helpers/cli.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in `cwd`; see `runCli` in test/helpers/cli.ts, which this adapts. */
export async function runCli(cwd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries(options.env ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const result = await runTenantsCli(args, { cwd, env, ...(options.input === undefined ? {} : { input: options.input }) });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Reads every file under `dir`, to check that a failed command changed nothing. */
export async function snapshotFiles(dir: string): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile()) {
      const file = join(entry.parentPath, entry.name);
      snapshot[relative(dir, file)] = await readFile(file, 'utf8');
    }
  }
  return snapshot;
}
