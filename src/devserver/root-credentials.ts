/**
 * The root credentials, read from the variables MinIO reads: MINIO_ROOT_USER and
 * MINIO_ROOT_PASSWORD, else the deprecated MINIO_ACCESS_KEY and MINIO_SECRET_KEY.
 * MinIO's limits apply: an access key of at least 3 characters and a secret key of at least 8.
 */

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
}

export class CredentialsConfigError extends Error {
  override name = 'CredentialsConfigError';
}

const MIN_ACCESS_KEY_LENGTH = 3;
const MIN_SECRET_KEY_LENGTH = 8;

/** Reads and checks the root credentials. Error messages name the variable, never its value. */
export function readRootCredentials(env: NodeJS.ProcessEnv): RootCredentials {
  const useRoot = env.MINIO_ROOT_USER !== undefined || env.MINIO_ROOT_PASSWORD !== undefined;
  const userVariable = useRoot ? 'MINIO_ROOT_USER' : 'MINIO_ACCESS_KEY';
  const passwordVariable = useRoot ? 'MINIO_ROOT_PASSWORD' : 'MINIO_SECRET_KEY';
  const accessKey = env[userVariable] ?? '';
  const secretKey = env[passwordVariable] ?? '';

  if (accessKey === '' || secretKey === '') {
    const detail = useRoot ? ` (${accessKey === '' ? userVariable : passwordVariable} is empty or unset)` : '';
    throw new CredentialsConfigError(`missing credentials: set MINIO_ROOT_USER and MINIO_ROOT_PASSWORD${detail}`);
  }
  if (accessKey.length < MIN_ACCESS_KEY_LENGTH) {
    throw new CredentialsConfigError(
      `invalid credentials: ${userVariable} must be at least ${MIN_ACCESS_KEY_LENGTH} characters long, it has ${accessKey.length}`,
    );
  }
  if (secretKey.length < MIN_SECRET_KEY_LENGTH) {
    throw new CredentialsConfigError(
      `invalid credentials: ${passwordVariable} must be at least ${MIN_SECRET_KEY_LENGTH} characters long, it has ${secretKey.length}`,
    );
  }
  return { accessKey, secretKey };
}
