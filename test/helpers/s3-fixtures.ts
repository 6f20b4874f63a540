/** Object keys that S3 clients encode in different ways; each must round-trip unchanged. */
export const AWKWARD_KEYS = [
  'with space.txt',
  'a+b.txt',
  'ünïcødé/文件.txt',
  'odd%2Fname.txt',
  "q=1&x!'()*~.txt",
  '/leading-slash',
] as const;

/** User metadata whose names contain a dot and an underscore, which some proxies drop. */
export const AWKWARD_METADATA: Record<string, string> = {
  'my.dotted': 'dot value',
  'my_underscored': 'underscore value',
};

/** The <Code> of an S3 XML error body, or undefined. */
export function s3ErrorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
