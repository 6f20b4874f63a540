import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/minio-tenants.js runs dist/, so the suite builds with `tsc` before vitest starts. */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/minio-tenants.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI in `cwd` and waits for it to exit. $MINIO_TENANTS_CONFIG is removed
 * from the environment unless `env` sets it, so the default ./tenants.yaml applies.
 */
export function runCli(cwd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.MINIO_TENANTS_CONFIG;
  Object.assign(env, options.env);

  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
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
