import { isIP } from 'node:net';

/** A parsed `host:port`; `host` is without brackets, so `::1` for `[::1]:9000`. */
export interface ListenAddress {
  host: string;
  port: number;
}

const HOST_NAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const LISTEN_ADDRESS_HINT = 'expected host:port such as 127.0.0.1:9000, 0.0.0.0:9000 or [::1]:9000';

/**
 * Parses `host:port`, where host is an IPv4 address, a host name, or an IPv6 address in
 * brackets (the URL form from RFC 3986, so that the last colon separates the port).
 * Port 0, which lets the operating system choose, is allowed only with `allowPortZero`.
 * Returns undefined when the text is not such an address.
 */
export function parseListenAddress(text: string, options: { allowPortZero?: boolean } = {}): ListenAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null) {
    return undefined;
  }
  const port = Number(match[3]);
  const lowest = options.allowPortZero === true ? 0 : 1;
  if (port < lowest || port > 65535) {
    return undefined;
  }

  const ipv6 = match[1];
  if (ipv6 !== undefined) {
    return isIP(ipv6) === 6 ? { host: ipv6, port } : undefined;
  }
  const host = match[2] ?? '';
  return isIP(host) === 4 || HOST_NAME_PATTERN.test(host) ? { host, port } : undefined;
}

/**
 * Derives the URL that clients use from the proxy's listen address. A wildcard address
 * accepts connections on every interface but is no address to connect to, so it maps to
 * the loopback address of the same family: 0.0.0.0 to 127.0.0.1 and :: to ::1.
 */
export function derivePublicUrl(listen: ListenAddress, scheme: 'http' | 'https' = 'http'): string {
  let host = listen.host;
  if (host === '0.0.0.0') {
    host = '127.0.0.1';
  } else if (host === '::') {
    host = '::1';
  }
  return `${scheme}://${formatHostPort(host, listen.port)}`;
}

/** Formats `host:port`, bracketing an IPv6 address as URLs do (RFC 3986 section 3.2.2). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Returns true when `host` is a DNS host name or an IP address literal (without brackets or port). */
export function isHostName(host: string): boolean {
  return isIP(host) !== 0 || HOST_NAME_PATTERN.test(host);
}
