import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TenantsError } from '../errors.js';
import type { ServerFlavor } from '../config/types.js';

/** `minio` is a real MinIO binary, `development` the embedded minio-dev-server. */
export type EngineKind = 'minio' | 'development';

/** Launch flavor: the environment variables that carry the credentials, and the flags. */
export type LaunchFlavor = 'legacy' | 'current';

export interface Engine {
  kind: EngineKind;
  /** Executable to spawn. */
  file: string;
  /** Arguments that come before the MinIO arguments (the script path for the development server). */
  prefixArgs: string[];
  flavor: LaunchFlavor;
  /** The first line of `--version`, for `status` and logs. */
  version: string;
}

export const DEFAULT_SERVER_COMMAND = 'minio';

/** The release that deprecated MINIO_ACCESS_KEY/MINIO_SECRET_KEY for MINIO_ROOT_USER/MINIO_ROOT_PASSWORD. */
export const ROOT_USER_RELEASE = '2021-04-22T15-44-28Z';
/** The release that embedded the console on a second port, random unless --console-address is given. */
export const CONSOLE_RELEASE = '2021-07-08T01-15-01Z';

const DEV_SERVER_SCRIPT = fileURLToPath(new URL('../../bin/minio-dev-server.js', import.meta.url));

/**
 * Decides the launch flavor from the output of `<command> --version`.
 *
 * MinIO prints `minio version RELEASE.<YYYY-MM-DDTHH-MM-SSZ> ...` (2019 and current releases).
 * Releases older than CONSOLE_RELEASE get `legacy`: credentials in MINIO_ACCESS_KEY and
 * MINIO_SECRET_KEY and no --console-address, which they reject as an unknown flag. A source
 * build reports `DEVELOPMENT.*` and the development server `minio-dev-server version
 * DEVELOPMENT.*`; both get `current`. Output without a release tag gets `current`, so that
 * a recent build is never started with flags it warns about; set `server.flavor` to override.
 */
export function flavorFromVersion(output: string): LaunchFlavor {
  const match = /RELEASE\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)/.exec(output);
  if (match === null) {
    return 'current';
  }
  // The tags sort as text because every field has a fixed width.
  return (match[1] as string) < CONSOLE_RELEASE ? 'legacy' : 'current';
}

/** Finds an executable on PATH, or resolves a path relative to the config directory. */
export async function findExecutable(command: string, baseDir: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(baseDir, command)]
    : pathEnv.split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next PATH entry.
    }
  }
  return undefined;
}

export interface ResolveEngineOptions {
  command: string;
  flavor: ServerFlavor;
  /** Directory of tenants.yaml, for relative commands. */
  baseDir: string;
}

/**
 * Chooses the server to launch. The default command falls back to the embedded development
 * server when no `minio` is on PATH; a command the user configured must exist.
 */
export async function resolveEngine(options: ResolveEngineOptions): Promise<Engine> {
  const executable = await findExecutable(options.command, options.baseDir);
  if (executable === undefined) {
    if (options.command !== DEFAULT_SERVER_COMMAND) {
      throw new TenantsError(
        'SERVER_COMMAND_NOT_FOUND',
        `server.command "${options.command}" was not found or is not executable; ` +
          'install MinIO there, fix the path in tenants.yaml, or remove server.command to use the embedded development server',
      );
    }
    return developmentEngine();
  }

  const version = await readVersion(executable, []);
  const kind: EngineKind = version.startsWith('minio-dev-server') ? 'development' : 'minio';
  const flavor = options.flavor === 'auto' ? flavorFromVersion(version) : options.flavor;
  return { kind, file: executable, prefixArgs: [], flavor, version };
}

export function developmentEngine(): Engine {
  return {
    kind: 'development',
    file: process.execPath,
    prefixArgs: [DEV_SERVER_SCRIPT],
    flavor: 'current',
    version: 'minio-dev-server (embedded)',
  };
}

async function readVersion(file: string, prefixArgs: string[]): Promise<string> {
  // Imported here because execa takes about 80 ms to load, which every short command would pay.
  const { execa } = await import('execa');
  const result = await execa(file, [...prefixArgs, '--version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  const firstLine = `${result.stdout}\n${result.stderr}`.trim().split('\n')[0] ?? '';
  if (result.failed && firstLine === '') {
    throw new TenantsError(
      'SERVER_VERSION_FAILED',
      `"${file} --version" failed (${result.shortMessage}); check that server.command is a MinIO binary`,
    );
  }
  return firstLine;
}
