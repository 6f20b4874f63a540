import type { RouteEntry, RoutesTable, TenantState } from '../routing/routes-file.js';
import type { LearnedKeys } from './learned-keys.js';
import type { Upstream, UpstreamPool } from './upstream-pool.js';

/** A tenant as the proxy routes to it. */
export interface Route {
  tenant: string;
  state: TenantState;
  upstream: Upstream;
}

/**
 * The routing table indexed for O(1) lookups: one Map from access key to route and one
 * from host name to route. Built once per reload and never changed afterwards, so a
 * request keeps a consistent view while a reload swaps in a new index.
 */
export class RouteIndex {
  readonly tenantCount: number;
  private readonly byAccessKey = new Map<string, Route>();
  private readonly byHost = new Map<string, Route>();
  private readonly byTenant = new Map<string, Route>();

  /** `learned` contains the temporary keys from STS. It is shared by every index and pruned to this table's tenants. */
  constructor(
    table: RoutesTable,
    pool: UpstreamPool,
    private readonly learned?: LearnedKeys,
  ) {
    const upstreams = pool.update(table.tenants.map((entry) => entry.upstream));
    for (const entry of table.tenants) {
      const route: Route = { tenant: entry.name, state: entry.state, upstream: upstreams.get(entry.upstream) as Upstream };
      for (const accessKey of entry.accessKeys) {
        this.byAccessKey.set(accessKey, route);
      }
      addHosts(this.byHost, entry, route);
      this.byTenant.set(entry.name, route);
    }
    this.tenantCount = table.tenants.length;
    learned?.retainTenants(new Set(this.byTenant.keys()));
  }

  /** Finds the tenant of a configured access key, else of a temporary key learned from STS. */
  routeForAccessKey(accessKey: string): Route | undefined {
    const route = this.byAccessKey.get(accessKey);
    if (route !== undefined || this.learned === undefined || this.learned.size === 0) {
      return route;
    }
    const tenant = this.learned.tenantFor(accessKey);
    return tenant === undefined ? undefined : this.byTenant.get(tenant);
  }

  /** Records a temporary key that `tenant`'s server issued, until `expiresAtMs`; false when it was not recorded. */
  learnAccessKey(accessKey: string, tenant: string, expiresAtMs: number): boolean {
    if (this.learned === undefined || !this.byTenant.has(tenant) || this.byAccessKey.has(accessKey)) {
      return false;
    }
    return this.learned.learn(accessKey, tenant, expiresAtMs);
  }

  /**
   * Finds the tenant for an anonymous request by its Host header: a listed host, or
   * `<bucket>.<host>` for virtual-hosted-style requests. The port is ignored.
   */
  routeForHost(hostHeader: string | undefined): Route | undefined {
    if (hostHeader === undefined || this.byHost.size === 0) {
      return undefined;
    }
    const host = stripPort(hostHeader).toLowerCase();
    const exact = this.byHost.get(host);
    if (exact !== undefined) {
      return exact;
    }
    const dot = host.indexOf('.');
    return dot === -1 ? undefined : this.byHost.get(host.slice(dot + 1));
  }
}

function addHosts(byHost: Map<string, Route>, entry: RouteEntry, route: Route): void {
  for (const host of entry.hosts) {
    // NOTE: validateRoutesTable does not reject a host listed for two tenants, so the later entry wins.
    byHost.set(stripPort(host).toLowerCase(), route);
  }
}

/** Removes `:port` from a Host value, keeping an IPv6 literal such as `[::1]` whole. */
function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
