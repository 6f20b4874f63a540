/**
 * Reads the temporary access key and its expiry from an STS AssumeRole* response, such
 * as MinIO sends (cmd/sts-handlers.go) and AWS documents
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html):
 *
 *   <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
 *     <AssumeRoleResult><Credentials><AccessKeyId>…</AccessKeyId><SecretAccessKey>…
 *     <SessionToken>…</SessionToken><Expiration>2026-01-02T03:04:05Z</Expiration>…
 *
 * The same shape comes from AssumeRoleWithWebIdentity, AssumeRoleWithLDAPIdentity,
 * AssumeRoleWithClientGrants and AssumeRoleWithCertificate. The parser is pure and never
 * returns the secret key or the session token, so they cannot reach a log.
 */

export interface LearnedCredential {
  accessKeyId: string;
  expiresAtMs: number;
}

/** `AssumeRole` or `AssumeRoleWith<Kind>`, as the name of the root element before `Response`. */
const ROOT_ELEMENT = /^\s*(?:<\?xml[^>]*\?>\s*)?<(?:[A-Za-z][\w.-]*:)?(AssumeRole(?:With[A-Za-z]+)?)Response[\s>]/;

/**
 * Returns the access key and expiry of a successful AssumeRole* response, or undefined
 * for any other document (an error response, a truncated body, a missing or invalid
 * Expiration).
 */
export function parseAssumeRoleResponse(xml: string): LearnedCredential | undefined {
  const root = ROOT_ELEMENT.exec(xml);
  if (root === null) {
    return undefined;
  }
  const result = elementText(xml, `${root[1]}Result`);
  const credentials = result === undefined ? undefined : elementText(result, 'Credentials');
  if (credentials === undefined) {
    return undefined;
  }

  const accessKeyId = elementText(credentials, 'AccessKeyId')?.trim();
  const expiration = elementText(credentials, 'Expiration')?.trim();
  if (accessKeyId === undefined || accessKeyId === '' || expiration === undefined) {
    return undefined;
  }
  const expiresAtMs = parseExpiration(expiration);
  return expiresAtMs === undefined ? undefined : { accessKeyId: decodeEntities(accessKeyId), expiresAtMs };
}

/** Returns the content of the first `<name>…</name>` (an optional namespace prefix allowed), or undefined. */
function elementText(xml: string, name: string): string | undefined {
  const open = new RegExp(`<(?:[A-Za-z][\\w.-]*:)?${name}(?:\\s[^>]*)?>`).exec(xml);
  if (open === null) {
    return undefined;
  }
  const start = open.index + open[0].length;
  const close = new RegExp(`</(?:[A-Za-z][\\w.-]*:)?${name}\\s*>`).exec(xml.slice(start));
  return close === null ? undefined : xml.slice(start, start + close.index);
}

/** Accepts the ISO 8601 date-times that STS writes (`2026-01-02T03:04:05Z`, with optional fraction or offset). */
function parseExpiration(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|apos);/g, (entity) => ENTITIES[entity] ?? entity);
}
