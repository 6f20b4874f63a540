/** A temporary access key from an STS response, and the tenant whose server issued it. */
export interface TemporaryKey {
  accessKey: string;
  tenant: string;
  /** Expiration of the credentials, in milliseconds since the epoch. */
  expiresAtMs: number;
}

/**
 * Temporary access keys that the proxy saw a tenant's server issue through STS, mapped
 * to that tenant until they expire. The store outlives routing table reloads: a reload
 * drops only the keys of tenants that left the table.
 */
export class LearnedKeys {
  /** Insertion order is the eviction order when the store is full. */
  private readonly byAccessKey = new Map<string, { tenant: string; expiresAtMs: number }>();

  constructor(
    /** Bound on the keys kept, so that a client calling AssumeRole in a loop cannot grow the proxy without limit. */
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byAccessKey.size;
  }

  /**
   * Records that `accessKey` belongs to `tenant` until `expiresAtMs`. Returns false, and
   * records nothing, for a key that has already expired.
   */
  learn(accessKey: string, tenant: string, expiresAtMs: number): boolean {
    const now = this.now();
    if (expiresAtMs <= now) {
      return false;
    }
    this.byAccessKey.delete(accessKey);
    if (this.byAccessKey.size >= this.maxKeys) {
      this.evict(now);
    }
    this.byAccessKey.set(accessKey, { tenant, expiresAtMs });
    return true;
  }

  /** Returns the tenant of an unexpired learned key; an expired key is removed. */
  tenantFor(accessKey: string): string | undefined {
    const entry = this.byAccessKey.get(accessKey);
    if (entry === undefined) {
      return undefined;
    }
    if (entry.expiresAtMs <= this.now()) {
      this.byAccessKey.delete(accessKey);
      return undefined;
    }
    return entry.tenant;
  }

  /** Lists the keys that have not expired, oldest learned first. */
  unexpired(): TemporaryKey[] {
    const now = this.now();
    const keys: TemporaryKey[] = [];
    for (const [accessKey, entry] of this.byAccessKey) {
      if (entry.expiresAtMs > now) {
        keys.push({ accessKey, tenant: entry.tenant, expiresAtMs: entry.expiresAtMs });
      }
    }
    return keys;
  }

  /** Drops the keys of tenants not in `tenants` and every expired key; called on each table load. */
  retainTenants(tenants: ReadonlySet<string>): void {
    const now = this.now();
    for (const [accessKey, entry] of this.byAccessKey) {
      if (!tenants.has(entry.tenant) || entry.expiresAtMs <= now) {
        this.byAccessKey.delete(accessKey);
      }
    }
  }

  /** Makes room for one key: expired keys go first, then the oldest learned one. */
  private evict(now: number): void {
    for (const [accessKey, entry] of this.byAccessKey) {
      if (entry.expiresAtMs <= now) {
        this.byAccessKey.delete(accessKey);
      }
    }
    if (this.byAccessKey.size >= this.maxKeys) {
      const oldest = this.byAccessKey.keys().next().value as string;
      this.byAccessKey.delete(oldest);
    }
  }
}
