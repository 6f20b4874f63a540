import { isIP } from 'node:net';
import { TenantsError } from '../errors.js';

/** A parsed `host:port` for the proxy to bind. `host` has no brackets, so `::1` for `[::1]:9000`. */
export interface ProxyListenAddress {
  host: string;
  /** 0 lets the operating system choose a free port. */
  port: number;
}

/**
 * Parses `host:port`, where host is an IPv4 address, a host name or an IPv6 address in
 * brackets. Port 0 is allowed. Throws a TenantsError naming the value when it is invalid.
 */
export function parseProxyListen(text: string): ProxyListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (match === null) {
    throw invalidListenAddress(text);
  }
  const [, bracketedHost, plainHost, portText] = match;
  const port = Number(portText);
  if (port > 65535) {
    throw invalidListenAddress(text);
  }
  if (bracketedHost !== undefined) {
    if (isIP(bracketedHost) !== 6) {
      throw invalidListenAddress(text);
    }
    return { host: bracketedHost, port };
  }
  return { host: plainHost ?? '', port };
}

function invalidListenAddress(text: string): TenantsError {
  return new TenantsError(
    'PROXY_LISTEN_INVALID',
    `the proxy listen address "${text}" is invalid; expected host:port such as 127.0.0.1:9000 or [::1]:9000`,
  );
}

/** Formats `host:port`, bracketing an IPv6 address as URLs do (RFC 3986 section 3.2.2). */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Returns the URL that clients on this machine use. A wildcard address accepts connections
 * on every interface but cannot be connected to, so it maps to the loopback address of the
 * same family.
 */
export function clientUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  let connectHost = host;
  if (host === '0.0.0.0') {
    connectHost = '127.0.0.1';
  } else if (host === '::') {
    connectHost = '::1';
  }
  return `${scheme}://${formatHostPort(connectHost, port)}`;
}
