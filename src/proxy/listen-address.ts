import { derivePublicUrl, formatHostPort, parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import { TenantsError } from '../errors.js';

export { formatHostPort };

/** A parsed `host:port` for the proxy to bind; port 0 lets the operating system choose. */
export type ProxyListenAddress = ListenAddress;

/**
 * Parses the proxy's `host:port` with the same rules as `proxy.listen` in tenants.yaml,
 * and also port 0. Throws a TenantsError naming the value when it is invalid.
 */
export function parseProxyListen(text: string): ProxyListenAddress {
  const address = parseListenAddress(text, { allowPortZero: true });
  if (address === undefined) {
    throw new TenantsError(
      'PROXY_LISTEN_INVALID',
      `the proxy listen address "${text}" is invalid; expected host:port such as 127.0.0.1:9000 or [::1]:9000`,
    );
  }
  return address;
}

/** Returns the URL that clients on this machine use for a bound address. */
export function clientUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  return derivePublicUrl({ host, port }, scheme);
}
