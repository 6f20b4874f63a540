import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { errnoCode, TenantsError } from '../errors.js';
import { applyDefaults, DEFAULTS } from './defaults.js';
import type { Config } from './types.js';
import { parseConfigText } from './validate.js';

export const CONFIG_ENV_VARIABLE = 'MINIO_TENANTS_CONFIG';
export const DEFAULT_CONFIG_FILE = 'tenants.yaml';

export interface LoadedConfig {
  config: Config;
  /** The parsed file with comments, or undefined when the file does not exist. */
  document: Document | undefined;
  /** The file's text, or undefined when the file does not exist. */
  text: string | undefined;
}

/**
 * Returns the absolute path of the configuration file: the `--config` flag, else
 * $MINIO_TENANTS_CONFIG, else ./tenants.yaml. Relative paths are taken from the working
 * directory. An empty value counts as unset.
 */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const chosen = nonEmpty(flag) ?? nonEmpty(env[CONFIG_ENV_VARIABLE]) ?? DEFAULT_CONFIG_FILE;
  return resolve(chosen);
}

/**
 * Reads and validates tenants.yaml, with defaults applied and paths made absolute.
 * A missing file yields the defaults and no tenants (`exists: false`). Throws
 * TenantsError CONFIG_INVALID naming file, line and key for a malformed file.
 */
export async function loadConfig(file: string): Promise<Config> {
  return (await loadConfigDocument(file)).config;
}

/** Like loadConfig, and also returns the parsed document for comment-preserving edits. */
export async function loadConfigDocument(file: string): Promise<LoadedConfig> {
  const absolute = resolve(file);
  const text = await readConfigText(absolute);
  if (text === undefined) {
    return { config: applyDefaults({}, absolute, false), document: undefined, text: undefined };
  }

  const { raw, document } = parseConfigText(text, displayPath(absolute));
  return { config: applyDefaults(raw, absolute, true), document, text };
}

/** Returns the path relative to the working directory when it is below it, else the absolute path. */
export function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd === '' || fromCwd.startsWith(`..${sep}`) || fromCwd === '..' ? file : fromCwd;
}

async function readConfigText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw new TenantsError('CONFIG_UNREADABLE', `cannot read the configuration file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Returns the state directory of a configuration file that may be invalid, so that `down`,
 * `status` and `logs` still reach a running supervisor after someone broke tenants.yaml.
 * It reads a top-level `stateDir` string if the YAML yields one, else the default.
 */
export async function resolveStateDirLeniently(file: string): Promise<string> {
  const absolute = resolve(file);
  try {
    return (await loadConfig(absolute)).stateDir;
  } catch (error) {
    if (!(error instanceof TenantsError) || error.code !== 'CONFIG_INVALID') {
      throw error;
    }
  }
  const text = (await readConfigText(absolute)) ?? '';
  let stateDir: unknown;
  try {
    stateDir = (parseDocument(text).toJS() as { stateDir?: unknown } | null)?.stateDir;
  } catch {
    stateDir = undefined;
  }
  return resolve(dirname(absolute), typeof stateDir === 'string' && stateDir !== '' ? stateDir : DEFAULTS.stateDir);
}
