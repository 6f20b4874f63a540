import { describe, expect, it } from 'vitest';
import { resolveSigningCredentials, type CredentialKeys } from '../../src/devserver/auth/signing-credentials.js';
import { isExpired, TemporaryCredentialStore } from '../../src/devserver/auth/temporary-credentials.js';
import { S3Error } from '../../src/devserver/s3-error.js';

const ROOT = { accessKey: 'rootuser', secretKey: 'rootpassword' };
/** Half a second past a whole second, so the rounding of Expiration shows. */
const ISSUED_AT = new Date('2025-03-01T10:00:00.500Z');

describe('TemporaryCredentialStore.issue', () => {
  it('generates keys in MinIO format', () => {
    const issued = new TemporaryCredentialStore().issue(900, ISSUED_AT);

    expect(issued.accessKey).toMatch(/^[A-Z0-9]{20}$/);
    expect(issued.secretKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(issued.sessionToken).toMatch(/^[A-Za-z0-9_-]{512}$/);
  });

  it('rounds the expiration down to whole seconds', () => {
    const issued = new TemporaryCredentialStore().issue(900, ISSUED_AT);

    expect(issued.expiresAt.toISOString()).toBe('2025-03-01T10:15:00.000Z');
  });

  it('lets a lifetime override replace DurationSeconds', () => {
    const issued = new TemporaryCredentialStore({ lifetimeOverrideMs: 2_000 }).issue(43_200, ISSUED_AT);

    expect(issued.expiresAt.toISOString()).toBe('2025-03-01T10:00:02.000Z');
  });

  it('stores what it issues under the access key', () => {
    const store = new TemporaryCredentialStore();
    const issued = store.issue(900, ISSUED_AT);

    expect(store.find(issued.accessKey)).toEqual(issued);
    expect(store.find('AAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
  });

  it('keeps expired credentials for a day, then forgets them', () => {
    const store = new TemporaryCredentialStore();
    const old = store.issue(900, ISSUED_AT);

    store.issue(900, new Date(old.expiresAt.getTime() + 24 * 3_600_000));
    expect(store.find(old.accessKey)).toBeDefined();

    store.issue(900, new Date(old.expiresAt.getTime() + 24 * 3_600_000 + 1));
    expect(store.find(old.accessKey)).toBeUndefined();
    expect(store.size).toBe(2);
  });
});

describe('isExpired', () => {
  const store = new TemporaryCredentialStore();
  const issued = store.issue(900, ISSUED_AT);
  const cases: Array<[string, number, boolean]> = [
    ['one millisecond before Expiration', -1, false],
    ['at Expiration', 0, true],
    ['after Expiration', 1_000, true],
  ];
  for (const [name, offsetMs, expected] of cases) {
    it(`returns ${expected} ${name}`, () => {
      expect(isExpired(issued, new Date(issued.expiresAt.getTime() + offsetMs))).toBe(expected);
    });
  }
});

describe('resolveSigningCredentials', () => {
  const temporary = new TemporaryCredentialStore();
  const keys: CredentialKeys = { root: ROOT, temporary };
  const issued = temporary.issue(900, ISSUED_AT);
  const beforeExpiry = new Date(issued.expiresAt.getTime() - 1);
  const atExpiry = issued.expiresAt;

  it('returns the root credentials without a session token', () => {
    expect(resolveSigningCredentials(ROOT.accessKey, undefined, keys, beforeExpiry)).toEqual(ROOT);
  });

  it('returns temporary credentials with their token before expiry', () => {
    expect(resolveSigningCredentials(issued.accessKey, issued.sessionToken, keys, beforeExpiry)).toEqual({
      accessKey: issued.accessKey,
      secretKey: issued.secretKey,
    });
  });

  const rejected: Array<[string, string, string | undefined, Date, string]> = [
    ['the root access key with a session token', ROOT.accessKey, issued.sessionToken, beforeExpiry, 'InvalidTokenId'],
    ['an unknown access key', 'NOSUCHACCESSKEY00000', issued.sessionToken, beforeExpiry, 'InvalidAccessKeyId'],
    ['temporary credentials without a token', issued.accessKey, undefined, beforeExpiry, 'InvalidTokenId'],
    ['temporary credentials with a wrong token', issued.accessKey, `${issued.sessionToken}x`, beforeExpiry, 'InvalidTokenId'],
    ['temporary credentials with an empty token', issued.accessKey, '', beforeExpiry, 'InvalidTokenId'],
    ['temporary credentials at their expiration', issued.accessKey, issued.sessionToken, atExpiry, 'InvalidAccessKeyId'],
    // MinIO compares the token before it looks at the expiration.
    ['expired credentials with a wrong token', issued.accessKey, 'wrong', atExpiry, 'InvalidTokenId'],
  ];
  for (const [name, accessKey, token, now, code] of rejected) {
    it(`rejects ${name} with ${code}`, () => {
      const error = errorOf(() => resolveSigningCredentials(accessKey, token, keys, now));

      expect(error.status).toBe(403);
      expect(error.code).toBe(code);
      expect(error.message).not.toContain(issued.sessionToken);
      expect(error.message).not.toContain(issued.secretKey);
    });
  }

  it('names the expiration time in the message', () => {
    const error = errorOf(() => resolveSigningCredentials(issued.accessKey, issued.sessionToken, keys, atExpiry));

    expect(error.message).toContain('expired at 2025-03-01T10:15:00.000Z');
  });
});

function errorOf(action: () => unknown): S3Error {
  try {
    action();
  } catch (error) {
    if (error instanceof S3Error) {
      return error;
    }
    throw error;
  }
  throw new Error('expected an S3Error');
}
