import { parseRawQuery } from '../../s3/credentials.js';
import { StsError, invalidParameterValue } from './sts-error.js';

/**
 * Parsing of the AssumeRole form body, `Action=AssumeRole&Version=2011-06-15[&DurationSeconds=N][&Policy=JSON]`,
 * with the checks and error codes of MinIO's AssumeRole handler (cmd/sts-handlers.go).
 * Other parameters, such as the RoleArn and RoleSessionName that AWS SDKs always send, are ignored.
 */

export const STS_API_VERSION = '2011-06-15';
export const DEFAULT_DURATION_SECONDS = 3600;
export const MIN_DURATION_SECONDS = 900;
/** 365 days, the limit of current MinIO releases (raised from 12 hours, then 7 days, in 2021). */
export const MAX_DURATION_SECONDS = 31_536_000;
/** The largest session policy that MinIO's AssumeRole handler accepts. */
export const MAX_SESSION_POLICY_CHARS = 2048;

export interface AssumeRoleRequest {
  durationSeconds: number;
  /** Checked for shape and size, then ignored: temporary credentials get the root user's permissions. */
  sessionPolicy: string | undefined;
}

export function parseAssumeRoleForm(body: string): AssumeRoleRequest {
  const form = parseForm(body);

  const version = form.get('Version') ?? '';
  if (version !== STS_API_VERSION) {
    // MinIO rejects a wrong version with MissingParameter, not InvalidParameterValue.
    throw new StsError(400, 'MissingParameter', `invalid STS API version "${version}"; expected Version=${STS_API_VERSION}`);
  }
  const action = form.get('Action') ?? '';
  if (action !== 'AssumeRole') {
    throw invalidParameterValue(`unsupported action "${action}"; this server implements only Action=AssumeRole`);
  }

  const sessionPolicy = form.get('Policy');
  if (sessionPolicy !== undefined && sessionPolicy !== '') {
    checkSessionPolicy(sessionPolicy);
  }
  return {
    durationSeconds: parseDurationSeconds(form.get('DurationSeconds')),
    sessionPolicy: sessionPolicy === '' ? undefined : sessionPolicy,
  };
}

/** Returns the seconds requested, or the default of one hour for a missing or empty value. */
export function parseDurationSeconds(value: string | undefined): number {
  if (value === undefined || value === '') {
    return DEFAULT_DURATION_SECONDS;
  }
  const seconds = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= MIN_DURATION_SECONDS && seconds <= MAX_DURATION_SECONDS)) {
    throw invalidParameterValue(
      `DurationSeconds "${value.slice(0, 40)}" must be a whole number from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
    );
  }
  return seconds;
}

/** Decodes the form. The first value wins for a repeated name, as with Go's url.Values.Get. */
function parseForm(body: string): Map<string, string> {
  let pairs: Array<[string, string]>;
  try {
    pairs = parseRawQuery(body);
  } catch (error) {
    throw invalidParameterValue(`the form body is not valid application/x-www-form-urlencoded: ${(error as Error).message}`);
  }
  const form = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (!form.has(name)) {
      form.set(name, value);
    }
  }
  return form;
}

/**
 * Checks what MinIO checks before it stores a session policy: at most 2048 characters, a JSON
 * object, and a non-empty Version. MinIO also validates the statements, which this server skips.
 */
function checkSessionPolicy(policy: string): void {
  if (policy.length > MAX_SESSION_POLICY_CHARS) {
    throw invalidParameterValue(`the session Policy has ${policy.length} characters; at most ${MAX_SESSION_POLICY_CHARS} are allowed`);
  }
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch (error) {
    throw invalidParameterValue(`the session Policy is not valid JSON: ${(error as Error).message}`);
  }
  const version = (document as { Version?: unknown } | null)?.Version;
  if (typeof document !== 'object' || document === null || Array.isArray(document) || typeof version !== 'string' || version === '') {
    throw invalidParameterValue('the session Policy must be a JSON object with a Version, such as "2012-10-17"');
  }
}
