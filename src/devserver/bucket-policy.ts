import { S3Error } from './s3-error.js';

/**
 * A small subset of bucket policy evaluation, enough for public-read buckets: statements
 * with Effect, Principal `*` (or {"AWS": "*"}), Action and Resource with `*` and `?`
 * wildcards. Grammar: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html
 * NOTE: statements with a Condition are skipped, so such an Allow never grants access.
 */

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

/** Parses and checks a policy document; throws MalformedPolicy with the reason. */
export function parseBucketPolicy(text: string, bucket: string): Statement[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw malformed(`the policy is not valid JSON: ${(error as Error).message}`);
  }
  const statements = (document as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statements) ? statements : statements === undefined ? undefined : [statements];
  if (list === undefined || list.length === 0) {
    throw malformed('the policy has no Statement');
  }
  for (const statement of list as Statement[]) {
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      throw malformed('every statement needs Effect "Allow" or "Deny"');
    }
    if (statement.Action === undefined || statement.Resource === undefined) {
      throw malformed('every statement needs Action and Resource');
    }
    for (const resource of strings(statement.Resource)) {
      if (!resource.startsWith(`arn:aws:s3:::${bucket}`)) {
        throw malformed(`the resource "${resource}" is outside the bucket "${bucket}"`);
      }
    }
  }
  return list as Statement[];
}

/** Decides whether an anonymous request for `action` on `resource` is allowed; Deny wins. */
export function policyAllowsAnonymous(statements: Statement[], action: string, resource: string): boolean {
  let allowed = false;
  for (const statement of statements) {
    if (statement.Condition !== undefined || !isEveryone(statement.Principal)) {
      continue;
    }
    const actionMatches = strings(statement.Action).some((pattern) => wildcardMatch(pattern, action));
    const resourceMatches = strings(statement.Resource).some((pattern) => wildcardMatch(pattern, resource));
    if (!actionMatches || !resourceMatches) {
      continue;
    }
    if (statement.Effect === 'Deny') {
      return false;
    }
    allowed = true;
  }
  return allowed;
}

function isEveryone(principal: unknown): boolean {
  if (principal === '*') {
    return true;
  }
  const aws = (principal as { AWS?: unknown } | null | undefined)?.AWS;
  return aws !== undefined && strings(aws).includes('*');
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Matches IAM wildcards: `*` is any run of characters, `?` one character. Action names ignore case. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, pattern.startsWith('s3:') || pattern === '*' ? 'is' : 's').test(text);
}

function malformed(message: string): S3Error {
  return new S3Error(400, 'MalformedPolicy', message);
}
