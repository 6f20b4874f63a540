/**
 * Checks a bucket name against the S3 naming rules
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
 * 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a
 * letter or digit, no `..`, and not an IPv4 address. Returns the reason a name is invalid, or
 * undefined when it is valid.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) {
    return `must be 3-63 characters long, it has ${name.length}`;
  }
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'may contain only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit';
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) {
    return 'must not contain "..", ".-" or "-."';
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    return 'must not be formatted as an IP address';
  }
  return undefined;
}
