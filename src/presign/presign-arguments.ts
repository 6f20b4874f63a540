import { TenantsError } from '../errors.js';
import { parseDuration, parseSize } from '../config/units.js';

/**
 * Parsing of the `presign` command's arguments. Pure functions, so every rule has a
 * table-driven test. Each throws INVALID_ARGUMENTS naming the value and the fix.
 */

export type PresignOperation = 'get' | 'put' | 'post';

export const PRESIGN_OPERATIONS: readonly PresignOperation[] = ['get', 'put', 'post'];

/** S3 accepts X-Amz-Expires from 1 to 604800 seconds (7 days) for SigV4 presigned URLs. */
export const MIN_EXPIRES_SECONDS = 1;
export const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
export const DEFAULT_EXPIRES = '15m';

/** S3's largest single PUT or POST upload is 5 GiB. Larger objects need multipart uploads. */
export const MAX_POST_SIZE_BYTES = 5 * 1024 ** 3;

/** S3 object keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

export interface ObjectTarget {
  bucket: string;
  key: string;
}

export function parseOperation(text: string): PresignOperation {
  const operation = text.toLowerCase();
  if (!(PRESIGN_OPERATIONS as readonly string[]).includes(operation)) {
    throw invalid(`unknown presign operation ${JSON.stringify(text)}; use one of ${PRESIGN_OPERATIONS.join(', ')}`);
  }
  return operation as PresignOperation;
}

/** Splits `bucket/key` at the first `/`, so the key keeps any further slashes. */
export function parseObjectTarget(text: string): ObjectTarget {
  const slash = text.indexOf('/');
  if (slash < 0) {
    throw invalid(`${JSON.stringify(text)} has no object key; write bucket/key, for example photos/2024/cat.jpg`);
  }
  const bucket = text.slice(0, slash);
  const key = text.slice(slash + 1);
  assertBucketName(bucket);
  if (key === '') {
    throw invalid(`${JSON.stringify(text)} has an empty object key; write bucket/key, for example photos/2024/cat.jpg`);
  }
  assertKeyLength(key, 'object key');
  return { bucket, key };
}

/**
 * Checks the S3 rules for general purpose bucket names: 3 to 63 characters of lowercase
 * letters, digits, dots and hyphens, starting and ending with a letter or digit, no two
 * adjacent dots, and not shaped like an IPv4 address.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function assertBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) {
    throw invalid(`invalid bucket name ${JSON.stringify(bucket)}: ${problem}`);
  }
}

function bucketNameProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) {
    return `it has ${bucket.length} characters; use 3 to 63`;
  }
  if (!/^[a-z0-9.-]+$/.test(bucket)) {
    return 'use only lowercase letters, digits, dots and hyphens';
  }
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) {
    return 'it must start and end with a lowercase letter or a digit';
  }
  if (bucket.includes('..')) {
    return 'it must not contain two adjacent dots';
  }
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(bucket)) {
    return 'it must not be formatted as an IP address';
  }
  return undefined;
}

/**
 * Returns whole seconds within the range that S3 accepts for presigned requests. Takes the
 * durations of tenants.yaml, plus whole days (`7d`), the unit in which S3 states its limit.
 */
export function parseExpires(text: string): number {
  const days = /^([0-9]+)d$/.exec(text.trim());
  const milliseconds = days === null ? parseDuration(text) : Number(days[1]) * 86_400_000;
  if (milliseconds === undefined) {
    throw invalid(`invalid --expires ${JSON.stringify(text)}: expected a number followed by ms, s, m, h or d, for example 90s, 15m, 12h or 7d`);
  }
  if (milliseconds % 1000 !== 0) {
    throw invalid(`invalid --expires ${JSON.stringify(text)}: presigned requests expire in whole seconds; use for example ${Math.max(1, Math.round(milliseconds / 1000))}s`);
  }
  const seconds = milliseconds / 1000;
  if (seconds < MIN_EXPIRES_SECONDS || seconds > MAX_EXPIRES_SECONDS) {
    throw invalid(`invalid --expires ${JSON.stringify(text)}: S3 accepts 1s to 7d (168h)`);
  }
  return seconds;
}

/** Accepts a whole number of bytes (`1048576`) or a size with a unit (`1MiB`). */
export function parseMaxSize(text: string): number {
  const bytes = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : parseSize(text);
  if (bytes === undefined) {
    throw invalid(`invalid --max-size ${JSON.stringify(text)}: expected a whole number of bytes, or a whole number followed by B, KiB, MiB or GiB, for example 10MiB`);
  }
  if (bytes < 1 || bytes > MAX_POST_SIZE_BYTES) {
    throw invalid(`invalid --max-size ${JSON.stringify(text)}: S3 accepts 1 byte to 5GiB for a form upload`);
  }
  return bytes;
}

/** Checks the length of a key prefix, which may be empty. */
export function parseKeyPrefix(text: string): string {
  assertKeyLength(text, '--key-prefix');
  return text;
}

function assertKeyLength(key: string, label: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw invalid(`the ${label} has ${bytes} bytes of UTF-8; S3 keys have at most ${MAX_KEY_BYTES}`);
  }
}

function invalid(message: string): TenantsError {
  return new TenantsError('INVALID_ARGUMENTS', message);
}
