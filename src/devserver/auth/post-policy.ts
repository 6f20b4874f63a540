import { parseSigV4Scope, SIGV4_ALGORITHM } from '../../s3/credentials.js';
import type { RootCredentials } from '../root-credentials.js';
import { S3Error, accessDenied } from '../s3-error.js';
import { signaturesEqual } from './auth-common.js';
import { signPostPolicyV2 } from './sigv2.js';
import { checkScope, signPostPolicy } from './sigv4.js';

/**
 * Verification of browser form uploads (POST Object): the signature over the base64 policy
 * and the policy's expiration and conditions.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */

export interface PostPolicyGrant {
  /** The object key, with `${filename}` replaced by the uploaded file's name. */
  key: string;
  minLength: number;
  maxLength: number;
}

/**
 * Checks the form fields that came before the file part. `fields` has lowercase names.
 * NOTE: form fields without a matching policy condition are accepted, although S3 rejects them.
 */
export function verifyPostPolicy(
  fields: ReadonlyMap<string, string>,
  bucket: string,
  filename: string,
  credentials: RootCredentials,
  now: Date,
): PostPolicyGrant {
  const policy = fields.get('policy');
  if (policy === undefined || policy === '') {
    throw accessDenied('a POST upload needs a signed policy form field');
  }
  verifySignature(fields, policy, credentials);

  const document = decodePolicy(policy);
  const expiration = Date.parse(document.expiration);
  if (Number.isNaN(expiration)) {
    throw new S3Error(400, 'InvalidPolicyDocument', `the policy expiration "${document.expiration}" is not an ISO 8601 date`);
  }
  if (now.getTime() > expiration) {
    throw accessDenied('Invalid according to Policy: Policy expired; create a new policy');
  }

  const rawKey = fields.get('key');
  if (rawKey === undefined || rawKey === '') {
    throw new S3Error(400, 'InvalidArgument', 'a POST upload needs a "key" form field');
  }
  const key = rawKey.replace(/\$\{filename\}/g, filename);
  const values = new Map(fields);
  values.set('bucket', bucket);
  values.set('key', key);
  return { key, ...checkConditions(document.conditions, values) };
}

function verifySignature(fields: ReadonlyMap<string, string>, policy: string, credentials: RootCredentials): void {
  const v4Signature = fields.get('x-amz-signature');
  let expected: string;
  let received: string;
  if (v4Signature !== undefined) {
    if (fields.get('x-amz-algorithm') !== SIGV4_ALGORITHM) {
      throw new S3Error(400, 'InvalidArgument', `the x-amz-algorithm form field must be ${SIGV4_ALGORITHM}`);
    }
    let scope;
    try {
      scope = parseSigV4Scope(fields.get('x-amz-credential') ?? '');
    } catch (error) {
      throw new S3Error(400, 'InvalidArgument', `the x-amz-credential form field is invalid: ${(error as Error).message}`);
    }
    checkScope(scope, credentials);
    expected = signPostPolicy(credentials.secretKey, scope, policy);
    received = v4Signature;
  } else {
    const accessKey = fields.get('awsaccesskeyid');
    const v2Signature = fields.get('signature');
    if (accessKey === undefined || v2Signature === undefined) {
      throw accessDenied('a POST upload needs x-amz-signature (SigV4) or AWSAccessKeyId and signature (SigV2) form fields');
    }
    if (accessKey !== credentials.accessKey) {
      throw new S3Error(403, 'InvalidAccessKeyId', 'the access key in the form does not exist on this server; check the access key');
    }
    expected = signPostPolicyV2(credentials.secretKey, policy);
    received = v2Signature;
  }
  if (!signaturesEqual(expected, received)) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'the policy signature does not match; check the secret key used to sign the policy');
  }
}

function decodePolicy(policy: string): { expiration: string; conditions: unknown[] } {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
  } catch {
    throw new S3Error(400, 'InvalidPolicyDocument', 'the policy form field is not base64-encoded JSON');
  }
  const { expiration, conditions } = (document ?? {}) as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string' || !Array.isArray(conditions)) {
    throw new S3Error(400, 'InvalidPolicyDocument', 'the policy needs an "expiration" string and a "conditions" array');
  }
  return { expiration, conditions };
}

function checkConditions(conditions: unknown[], values: ReadonlyMap<string, string>): { minLength: number; maxLength: number } {
  let minLength = 0;
  let maxLength = Number.POSITIVE_INFINITY;
  for (const condition of conditions) {
    if (Array.isArray(condition)) {
      const [operator, name, value] = condition as [unknown, unknown, unknown];
      const op = String(operator).toLowerCase();
      if (op === 'content-length-range') {
        minLength = Number(name);
        maxLength = Number(value);
        continue;
      }
      checkOne(op, fieldName(String(name)), String(value), values, condition);
      continue;
    }
    if (typeof condition === 'object' && condition !== null) {
      for (const [name, value] of Object.entries(condition)) {
        checkOne('eq', name.toLowerCase(), String(value), values, condition);
      }
      continue;
    }
    throw new S3Error(400, 'InvalidPolicyDocument', `the policy condition ${JSON.stringify(condition)} is neither an object nor an array`);
  }
  return { minLength, maxLength };
}

function fieldName(reference: string): string {
  return (reference.startsWith('$') ? reference.slice(1) : reference).toLowerCase();
}

function checkOne(op: string, name: string, expected: string, values: ReadonlyMap<string, string>, condition: unknown): void {
  const actual = values.get(name) ?? '';
  const ok = op === 'eq' ? actual === expected : op === 'starts-with' ? actual.startsWith(expected) : undefined;
  if (ok === undefined) {
    throw new S3Error(400, 'InvalidPolicyDocument', `the policy condition operator "${op}" is not supported; use eq, starts-with or content-length-range`);
  }
  if (!ok) {
    throw accessDenied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
  }
}
