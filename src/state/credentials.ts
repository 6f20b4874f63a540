import { randomInt } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode, TenantsError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';
import type { StatePaths } from './paths.js';

/** A tenant's root credentials, stored as JSON in `paths.credentials(name)` with mode 0600. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/*
 * Minimum lengths from MinIO's internal/auth/credentials.go (IsAccessKeyValid,
 * IsSecretKeyValid), which enforces no maximum. An access key must also not contain `=`
 * or `,`, because they separate the parts of the SigV4 Authorization header.
 */
export const ACCESS_KEY_MIN_LENGTH = 3;
export const SECRET_KEY_MIN_LENGTH = 8;

/* Generated keys have the lengths that MinIO uses for its own (accessKeyMaxLen, secretKeyMaxLen). */
export const GENERATED_ACCESS_KEY_LENGTH = 20;
export const GENERATED_SECRET_KEY_LENGTH = 40;
export const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** The URL-safe base64 alphabet from RFC 4648 section 5. */
export const SECRET_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Returns why the access key is unusable, or undefined. Besides MinIO's limits it rejects
 * whitespace and control characters, which cannot travel in an Authorization header.
 */
export function accessKeyProblem(accessKey: string): string | undefined {
  if (accessKey.length < ACCESS_KEY_MIN_LENGTH) {
    return `the access key has ${accessKey.length} characters; MinIO requires at least ${ACCESS_KEY_MIN_LENGTH}`;
  }
  if (/[=,]/.test(accessKey)) {
    return 'the access key contains "=" or ",", which separate the parts of an S3 Authorization header';
  }
  if (/[\s\p{Cc}]/u.test(accessKey)) {
    return 'the access key contains whitespace or a control character';
  }
  return undefined;
}

/** Returns why the secret key is unusable, or undefined. The message never contains the key. */
export function secretKeyProblem(secretKey: string): string | undefined {
  if (secretKey.length < SECRET_KEY_MIN_LENGTH) {
    return `the secret key has ${secretKey.length} characters; MinIO requires at least ${SECRET_KEY_MIN_LENGTH}`;
  }
  if (/\p{Cc}/u.test(secretKey)) {
    return 'the secret key contains a control character';
  }
  return undefined;
}

/** Throws TenantsError INVALID_CREDENTIALS unless both keys are usable. */
export function assertCredentials(credentials: Credentials): void {
  const problem = accessKeyProblem(credentials.accessKey) ?? secretKeyProblem(credentials.secretKey);
  if (problem !== undefined) {
    throw new TenantsError('INVALID_CREDENTIALS', `invalid credentials: ${problem}`);
  }
}

/** Generates a key pair with the CSPRNG; randomInt draws without modulo bias. */
export function generateCredentials(): Credentials {
  return {
    accessKey: randomString(ACCESS_KEY_ALPHABET, GENERATED_ACCESS_KEY_LENGTH),
    secretKey: randomString(SECRET_KEY_ALPHABET, GENERATED_SECRET_KEY_LENGTH),
  };
}

function randomString(alphabet: string, length: number): string {
  let result = '';
  for (let index = 0; index < length; index += 1) {
    result += alphabet[randomInt(alphabet.length)];
  }
  return result;
}

/**
 * Reads a tenant's credentials. Throws TenantsError CREDENTIALS_MISSING when the file does
 * not exist and CREDENTIALS_INVALID when it is not `{accessKey, secretKey}` JSON.
 */
export async function readCredentials(paths: StatePaths, name: string): Promise<Credentials> {
  const file = paths.credentials(name);
  const text = await readOptional(file);
  if (text === undefined) {
    throw new TenantsError(
      'CREDENTIALS_MISSING',
      `no credentials for tenant ${name}: ${file} does not exist; "minio-tenants up" or "minio-tenants reload" generates them for a tenant added to tenants.yaml by hand`,
    );
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TenantsError('CREDENTIALS_INVALID', `the credentials file ${file} is not valid JSON`, { cause: error });
  }
  const { accessKey, secretKey } = (data ?? {}) as Partial<Credentials>;
  if (typeof accessKey !== 'string' || typeof secretKey !== 'string') {
    throw new TenantsError('CREDENTIALS_INVALID', `the credentials file ${file} lacks a string accessKey or secretKey`);
  }
  return { accessKey, secretKey };
}

/** Writes a tenant's credentials with mode 0600 in directories with mode 0700. */
export async function writeCredentials(paths: StatePaths, name: string, credentials: Credentials): Promise<void> {
  const file = paths.credentials(name);
  await ensurePrivateDir(paths.root);
  await ensurePrivateDir(dirname(dirname(file)));
  await ensurePrivateDir(dirname(file));
  const content = `${JSON.stringify({ accessKey: credentials.accessKey, secretKey: credentials.secretKey }, null, 2)}\n`;
  await writeFileAtomic(file, content, 0o600);
}

/** Deletes the tenant's state directory (credentials and server configuration). */
export async function deleteTenantState(paths: StatePaths, name: string): Promise<void> {
  await rm(paths.tenantDir(name), { recursive: true, force: true });
}

/** Returns the file's text, or undefined when it does not exist. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}
