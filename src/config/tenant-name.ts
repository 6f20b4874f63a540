import { TenantsError } from '../errors.js';

/** The rule shown to users; it matches a DNS label, so a name also works as a host name part. */
export const TENANT_NAME_RULE = 'lowercase letters, digits and hyphens, 1 to 63 characters, not starting or ending with a hyphen';

const TENANT_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** `logs/supervisor.log` is the supervisor's own log, and `logs supervisor` prints it. */
const RESERVED_NAMES = new Set(['supervisor']);

/** Returns why `name` is not a valid tenant name, or undefined when it is valid. */
export function tenantNameProblem(name: string): string | undefined {
  if (name.length === 0) {
    return 'the name is empty';
  }
  if (name.length > 63) {
    return `the name has ${name.length} characters, more than 63`;
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    return 'the name starts or ends with a hyphen';
  }
  if (!TENANT_NAME_PATTERN.test(name)) {
    return 'the name contains a character other than a lowercase letter, a digit or a hyphen';
  }
  if (RESERVED_NAMES.has(name)) {
    return `the name ${JSON.stringify(name)} is reserved for the supervisor's own log`;
  }
  return undefined;
}

/** Throws a TenantsError with code INVALID_TENANT_NAME unless `name` is a valid tenant name. */
export function assertTenantName(name: string): void {
  const problem = tenantNameProblem(name);
  if (problem !== undefined) {
    throw new TenantsError('INVALID_TENANT_NAME', `invalid tenant name ${JSON.stringify(name)}: ${problem}; use ${TENANT_NAME_RULE}`);
  }
}
