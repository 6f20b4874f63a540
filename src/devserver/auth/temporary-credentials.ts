import { randomBytes, randomInt } from 'node:crypto';

/**
 * Temporary credentials that STS AssumeRole issues. They live in memory only, so a restart
 * of the dev server loses them. They act with the root user's permissions.
 */
export interface TemporaryCredentials {
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  /** Whole seconds, as in MinIO, whose Expiration comes from a JWT `exp` claim in Unix seconds. */
  expiresAt: Date;
}

export interface TemporaryCredentialStoreOptions {
  /**
   * Makes every credential expire this many milliseconds after issue, whatever DurationSeconds
   * requests, so tests can reach expiry without waiting 15 minutes. Set by a fault.
   */
  lifetimeOverrideMs?: number;
}

/** The alphabet and lengths of MinIO's generated keys (internal/auth/credentials.go). */
const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ACCESS_KEY_LENGTH = 20;
/** MinIO's session token is a signed JWT of several hundred bytes. This one is opaque random bytes of similar size. */
const SESSION_TOKEN_BYTES = 384;
/** Expired credentials are kept this long so that their use is reported as expired rather than unknown. */
const EXPIRED_RETENTION_MS = 24 * 60 * 60_000;

/** Issues temporary credentials and finds them again by access key. */
export class TemporaryCredentialStore {
  private readonly byAccessKey = new Map<string, TemporaryCredentials>();

  constructor(private readonly options: TemporaryCredentialStoreOptions = {}) {}

  issue(durationSeconds: number, now: Date): TemporaryCredentials {
    this.forgetLongExpired(now);

    const lifetimeMs = this.options.lifetimeOverrideMs ?? durationSeconds * 1000;
    const credentials: TemporaryCredentials = {
      accessKey: this.unusedAccessKey(),
      // 30 random bytes are 40 base64 characters, the length of MinIO's secret keys.
      secretKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(SESSION_TOKEN_BYTES).toString('base64url'),
      expiresAt: new Date(Math.floor((now.getTime() + lifetimeMs) / 1000) * 1000),
    };
    this.byAccessKey.set(credentials.accessKey, credentials);
    return credentials;
  }

  /** Returns the credentials of an access key, expired or not, or undefined for an unknown key. */
  find(accessKey: string): TemporaryCredentials | undefined {
    return this.byAccessKey.get(accessKey);
  }

  get size(): number {
    return this.byAccessKey.size;
  }

  private unusedAccessKey(): string {
    for (;;) {
      let key = '';
      for (let index = 0; index < ACCESS_KEY_LENGTH; index += 1) {
        key += ACCESS_KEY_ALPHABET[randomInt(ACCESS_KEY_ALPHABET.length)];
      }
      // 36^20 keys make a collision practically impossible, but a repeat must never replace live credentials.
      if (!this.byAccessKey.has(key)) {
        return key;
      }
    }
  }

  private forgetLongExpired(now: Date): void {
    for (const [accessKey, credentials] of this.byAccessKey) {
      if (now.getTime() - credentials.expiresAt.getTime() > EXPIRED_RETENTION_MS) {
        this.byAccessKey.delete(accessKey);
      }
    }
  }
}

/** Temporary credentials are valid strictly before their Expiration instant. */
export function isExpired(credentials: TemporaryCredentials, now: Date): boolean {
  return now.getTime() >= credentials.expiresAt.getTime();
}
