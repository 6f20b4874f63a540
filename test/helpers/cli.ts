import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import getPort, { portNumbers } from 'get-port';

/** The built CLI; `npm test` compiles it before the suite runs. */
export const CLI_SCRIPT = resolve(import.meta.dirname, '../../bin/minio-tenants.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `minio-tenants ARGS` as a user would, with colour off and a bounded run time.
 * $MINIO_TENANTS_CONFIG is removed from the environment unless `env` sets it, so that the
 * test's own files apply; `input` is sent to standard input.
 */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.MINIO_TENANTS_CONFIG;
  Object.assign(env, options.env);
  const result = await execa(process.execPath, [CLI_SCRIPT, ...args], {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    input: options.input ?? '',
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface Workspace {
  dir: string;
  configFile: string;
  proxyPort: number;
  /** First port of the range that `add` reserves from, 200 ports wide. */
  portsFrom: number;
  cleanup(): Promise<void>;
}

/**
 * Creates a temporary directory with a tenants.yaml whose proxy port and tenant port range are
 * free now, so that test files running in parallel do not collide.
 */
export async function makeWorkspace(extraYaml = ''): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'minio-tenants-'));
  // Both ranges stay below Linux's ephemeral ports (32768-60999), which outgoing
  // connections of other tests could take between the check and the bind.
  const portsFrom = 20_000 + Math.floor(Math.random() * 60) * 200;
  // A random start, because parallel test workers would all get the first free port of a range.
  const proxyStart = 10_000 + Math.floor(Math.random() * 9_000);
  const proxyPort = await getPort({ port: portNumbers(proxyStart, proxyStart + 999) });
  const configFile = join(dir, 'tenants.yaml');
  await writeFile(
    configFile,
    [
      '# Test workspace',
      'proxy:',
      `  listen: 127.0.0.1:${proxyPort}`,
      'ports:',
      `  from: ${portsFrom}`,
      `  to: ${portsFrom + 199}`,
      extraYaml,
      '',
    ].join('\n'),
  );
  return { dir, configFile, proxyPort, portsFrom, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
