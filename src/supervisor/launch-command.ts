import type { Engine } from './engine.js';

const CREDENTIAL_VARIABLES = ['MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY'];

export interface LaunchInput {
  engine: Engine;
  /** `server.args` from tenants.yaml, appended after the MinIO arguments. */
  extraArgs: readonly string[];
  /** `server.env` from tenants.yaml. */
  extraEnv: Readonly<Record<string, string>>;
  configDir: string;
  dataDir: string;
  port: number;
  consolePort: number;
  accessKey: string;
  secretKey: string;
  /** The supervisor's own environment, inherited minus any MinIO credential variables. */
  baseEnv: NodeJS.ProcessEnv;
}

export interface LaunchCommand {
  file: string;
  args: string[];
  /** The complete environment. It holds the credentials, which never go in `args`. */
  env: Record<string, string>;
}

/**
 * Builds `<command> --config-dir DIR server --address 127.0.0.1:PORT [--console-address
 * 127.0.0.1:PORT] DATA_DIR`. `--config-dir` is passed for every flavor: 2019 releases read
 * their config from it, and current releases still accept it as a deprecated, hidden flag.
 */
export function buildLaunchCommand(input: LaunchInput): LaunchCommand {
  const { engine } = input;
  const args = [...engine.prefixArgs, '--config-dir', input.configDir, 'server', '--address', `127.0.0.1:${input.port}`];
  if (engine.flavor === 'current') {
    args.push('--console-address', `127.0.0.1:${input.consolePort}`);
  }
  args.push(...input.extraArgs, input.dataDir);

  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.baseEnv)) {
    // A credential variable left in the operator's shell would give every tenant the same key.
    if (value !== undefined && !CREDENTIAL_VARIABLES.includes(name)) {
      env[name] = value;
    }
  }
  Object.assign(env, input.extraEnv);
  // The credentials come last so that server.env cannot replace them by accident.
  if (engine.flavor === 'current') {
    env.MINIO_ROOT_USER = input.accessKey;
    env.MINIO_ROOT_PASSWORD = input.secretKey;
  } else {
    env.MINIO_ACCESS_KEY = input.accessKey;
    env.MINIO_SECRET_KEY = input.secretKey;
  }
  return { file: engine.file, args, env };
}
