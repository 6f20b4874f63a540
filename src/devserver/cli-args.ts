/**
 * Command-line parsing with MinIO's shape:
 * `minio-dev-server [--config-dir DIR] server --address HOST:PORT [--console-address HOST:PORT] DATA_DIR`.
 * Pure, so that every rejected input is a unit test.
 */

export type CliCommand =
  | { kind: 'version' }
  | { kind: 'help' }
  | { kind: 'server'; host: string; port: number; consoleAddress?: string; dataDir: string; configDir?: string };

export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

export const USAGE = `usage: minio-dev-server [--config-dir DIR] server [--address HOST:PORT] [--console-address HOST:PORT] DATA_DIR
       minio-dev-server --version`;

/** MinIO's default API address. */
const DEFAULT_ADDRESS = ':9000';
/** Flags that MinIO accepts and that change nothing here. */
const IGNORED_BOOLEAN_FLAGS = new Set(['--quiet', '--json', '--anonymous']);

/** Parses the arguments after `node script`, that is `process.argv.slice(2)`. */
export function parseCliArgs(args: readonly string[]): CliCommand {
  const rest = [...args];
  let configDir: string | undefined;

  while (rest.length > 0 && rest[0]!.startsWith('-')) {
    const flag = splitFlag(rest.shift()!);
    if (flag.name === '--version' || flag.name === '-v') {
      return { kind: 'version' };
    }
    if (flag.name === '--help' || flag.name === '-h') {
      return { kind: 'help' };
    }
    if (flag.name === '--config-dir' || flag.name === '-C') {
      configDir = takeValue(flag, rest);
      continue;
    }
    if (IGNORED_BOOLEAN_FLAGS.has(flag.name)) {
      continue;
    }
    throw new CliUsageError(`unknown flag "${flag.name}"; run "minio-dev-server --help" for usage`);
  }

  const command = rest.shift();
  if (command === undefined) {
    throw new CliUsageError('missing command; run "minio-dev-server server DATA_DIR"');
  }
  if (command !== 'server') {
    throw new CliUsageError(`unknown command "${command}"; the only command is "server"`);
  }
  return parseServerArgs(rest, configDir);
}

function parseServerArgs(rest: string[], configDir: string | undefined): CliCommand {
  let address = DEFAULT_ADDRESS;
  let consoleAddress: string | undefined;
  const positional: string[] = [];

  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const flag = splitFlag(arg);
    if (flag.name === '--help' || flag.name === '-h') {
      return { kind: 'help' };
    }
    if (flag.name === '--address') {
      address = takeValue(flag, rest);
    } else if (flag.name === '--console-address') {
      consoleAddress = takeValue(flag, rest);
      parseAddress(consoleAddress, '--console-address');
    } else if (flag.name === '--config-dir' || flag.name === '-C') {
      configDir = takeValue(flag, rest);
    } else if (!IGNORED_BOOLEAN_FLAGS.has(flag.name)) {
      throw new CliUsageError(`unknown flag "${flag.name}" for "server"; run "minio-dev-server server --help" for usage`);
    }
  }

  if (positional.length !== 1) {
    throw new CliUsageError(
      positional.length === 0
        ? 'missing DATA_DIR; run "minio-dev-server server --address 127.0.0.1:9000 /path/to/data"'
        : `expected one DATA_DIR, got ${positional.length}: ${positional.join(' ')}`,
    );
  }
  const { host, port } = parseAddress(address, '--address');
  return {
    kind: 'server',
    host,
    port,
    dataDir: positional[0]!,
    ...(consoleAddress === undefined ? {} : { consoleAddress }),
    ...(configDir === undefined ? {} : { configDir }),
  };
}

/** Parses `HOST:PORT`, `:PORT` or `[IPv6]:PORT`. An empty host means every interface, as in MinIO. */
export function parseAddress(address: string, flagName: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon === -1) {
    throw new CliUsageError(`${flagName} "${address}" must have the form HOST:PORT, for example 127.0.0.1:9000`);
  }
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new CliUsageError(`${flagName} "${address}" has an invalid port "${portText}"; use 0-65535`);
  }
  return { host, port };
}

interface Flag {
  name: string;
  inlineValue: string | undefined;
}

function splitFlag(arg: string): Flag {
  const equals = arg.indexOf('=');
  return equals === -1
    ? { name: normalizeDashes(arg), inlineValue: undefined }
    : { name: normalizeDashes(arg.slice(0, equals)), inlineValue: arg.slice(equals + 1) };
}

/** MinIO's flag parser accepts `-address` as well as `--address`. */
function normalizeDashes(name: string): string {
  return name.startsWith('--') || name.length === 2 ? name : `-${name}`;
}

function takeValue(flag: Flag, rest: string[]): string {
  if (flag.inlineValue !== undefined) {
    return flag.inlineValue;
  }
  const value = rest.shift();
  if (value === undefined) {
    throw new CliUsageError(`flag "${flag.name}" needs a value`);
  }
  return value;
}
