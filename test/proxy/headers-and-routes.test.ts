import { describe, expect, it } from 'vitest';
import { filterResponseHeaders, scanRequestHeaders } from '../../src/proxy/hop-by-hop.js';
import { clientUrl, formatHostPort, parseProxyListen } from '../../src/proxy/listen-address.js';
import { LogThrottle } from '../../src/proxy/log-throttle.js';
import { DEFAULT_PROXY_LIMITS } from '../../src/proxy/proxy-limits.js';
import { RouteIndex } from '../../src/proxy/route-index.js';
import { selectRoute } from '../../src/proxy/select-route.js';
import { UpstreamPool } from '../../src/proxy/upstream-pool.js';
import type { RoutesTable } from '../../src/routing/routes-file.js';
import { route, sigV4 } from './helpers.js';

describe('scanRequestHeaders', () => {
  const cases: Array<{ name: string; raw: string[]; forward: string[] }> = [
    { name: 'end-to-end headers', raw: ['Host', 'h', 'X-A', '1', 'x-a', '2'], forward: ['Host', 'h', 'X-A', '1', 'x-a', '2'] },
    {
      name: 'standard hop-by-hop headers',
      raw: ['Connection', 'keep-alive', 'Keep-Alive', 't=5', 'TE', 'trailers', 'Upgrade', 'h2c', 'Proxy-Connection', 'x', 'Proxy-Authorization', 'Basic x', 'X-B', 'b'],
      forward: ['X-B', 'b'],
    },
    {
      name: 'headers named by Connection',
      raw: ['Connection', 'X-One, x-two', 'Connection', 'x-three', 'X-One', '1', 'X-Two', '2', 'X-Three', '3', 'X-Four', '4'],
      forward: ['X-Four', '4'],
    },
    {
      name: 'framing headers named by Connection',
      raw: ['Connection', 'content-length, host, transfer-encoding', 'Host', 'h', 'Content-Length', '3'],
      forward: ['Host', 'h', 'Content-Length', '3'],
    },
    {
      name: 'Transfer-Encoding',
      raw: ['Transfer-Encoding', 'chunked', 'x-amz-decoded-content-length', '10'],
      forward: ['Transfer-Encoding', 'chunked', 'x-amz-decoded-content-length', '10'],
    },
  ];
  it.each(cases)('forwards $name correctly', ({ raw, forward }) => {
    expect(scanRequestHeaders(raw).forward).toEqual(forward);
  });

  it('collects every Authorization value and the first Host', () => {
    const scanned = scanRequestHeaders(['authorization', 'one', 'Host', 'a', 'AUTHORIZATION', 'two', 'host', 'b']);

    expect(scanned.authorization).toEqual(['one', 'two']);
    expect(scanned.host).toBe('a');
  });

  it('reports body framing headers', () => {
    expect(scanRequestHeaders(['Content-Length', '12']).contentLength).toBe('12');
    expect(scanRequestHeaders(['Content-Length', '0']).hasTransferEncoding).toBe(false);
    expect(scanRequestHeaders(['transfer-encoding', 'chunked']).hasTransferEncoding).toBe(true);
    expect(scanRequestHeaders(['X', 'y']).contentLength).toBeUndefined();
  });
});

describe('filterResponseHeaders', () => {
  it('drops hop-by-hop headers', () => {
    const raw = ['Content-Length', '5', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'ETag', '"x"'];
    expect(filterResponseHeaders(raw, false)).toEqual(['Content-Length', '5', 'ETag', '"x"']);
  });

  it('drops Transfer-Encoding for HTTP/1.0 clients only', () => {
    const raw = ['Transfer-Encoding', 'chunked', 'ETag', '"x"'];
    expect(filterResponseHeaders(raw, true)).toEqual(['ETag', '"x"']);
    expect(filterResponseHeaders(raw, false)).toEqual(raw);
  });
});

describe('parseProxyListen', () => {
  const valid: Array<[string, string, number]> = [
    ['127.0.0.1:9000', '127.0.0.1', 9000],
    ['0.0.0.0:0', '0.0.0.0', 0],
    ['[::1]:9000', '::1', 9000],
    ['[::]:65535', '::', 65535],
    ['localhost:8080', 'localhost', 8080],
  ];
  it.each(valid)('parses %s', (text, host, port) => {
    expect(parseProxyListen(text)).toEqual({ host, port });
  });

  it.each(['', '9000', 'host:', 'host:65536', '::1:9000', '[::1]', '[host]:80', 'a:b'])('rejects %j', (text) => {
    expect(() => parseProxyListen(text)).toThrow('is invalid');
  });

  it('formats addresses and client URLs', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80');
    expect(formatHostPort('127.0.0.1', 80)).toBe('127.0.0.1:80');
    expect(clientUrl('0.0.0.0', 9000)).toBe('http://127.0.0.1:9000');
    expect(clientUrl('::', 9000)).toBe('http://[::1]:9000');
  });
});

function tableOf(...tenants: RoutesTable['tenants']): RoutesTable {
  return { version: 1, generatedAt: new Date(0).toISOString(), tenants };
}

describe('selectRoute', () => {
  const pool = new UpstreamPool(DEFAULT_PROXY_LIMITS);
  const index = new RouteIndex(
    tableOf(
      route('a', 'http://127.0.0.1:9001', ['KEY-A', 'KEY-A2'], { hosts: ['a.example.test'] }),
      route('b', 'http://127.0.0.1:9002', ['KEY/B'], { state: 'restarting', hosts: ['B.Example.Test:9000'] }),
      route('c', 'http://127.0.0.1:9001', ['KEY-C']),
    ),
    pool,
  );

  const cases: Array<{ name: string; url: string; authorization: string[]; host?: string; tenant?: string; status?: number; code?: string }> = [
    { name: 'first key', url: '/', authorization: [sigV4('KEY-A')], tenant: 'a' },
    { name: 'second key', url: '/b', authorization: ['AWS KEY-A2:sig'], tenant: 'a' },
    { name: 'key of a restarting tenant', url: '/', authorization: [sigV4('KEY/B')], status: 503, code: 'ServiceUnavailable' },
    { name: 'unknown key', url: '/', authorization: [sigV4('NOPE')], status: 403, code: 'InvalidAccessKeyId' },
    { name: 'presigned key', url: '/b/k?X-Amz-Credential=KEY-C%2F20240102%2Fus-east-1%2Fs3%2Faws4_request', authorization: [], tenant: 'c' },
    { name: 'anonymous by host', url: '/k', authorization: [], host: 'a.example.test', tenant: 'a' },
    { name: 'anonymous by bucket subdomain', url: '/k', authorization: [], host: 'bucket.a.example.test:80', tenant: 'a' },
    { name: 'anonymous, unknown host', url: '/k', authorization: [], host: 'x.test', status: 403, code: 'AccessDenied' },
    { name: 'anonymous, no host', url: '/k', authorization: [], status: 403, code: 'AccessDenied' },
    { name: 'anonymous, restarting tenant', url: '/k', authorization: [], host: 'b.example.test', status: 503, code: 'ServiceUnavailable' },
    { name: 'anonymous, nested subdomain', url: '/k', authorization: [], host: 'x.bucket.a.example.test', status: 403, code: 'AccessDenied' },
  ];
  it.each(cases)('handles $name', ({ url, authorization, host, tenant, status, code }) => {
    const selection = selectRoute(index, url, authorization, host);
    if (tenant !== undefined) {
      expect(selection.failure).toBeUndefined();
      expect(selection.route?.tenant).toBe(tenant);
      return;
    }
    expect(selection.route).toBeUndefined();
    expect(selection.failure?.error.status).toBe(status);
    expect(selection.failure?.error.code).toBe(code);
  });

  it('answers 503 without a table', () => {
    const selection = selectRoute(undefined, '/', [sigV4('KEY-A')], 'h');
    expect(selection.failure?.error.status).toBe(503);
    expect(selection.failure?.retryAfter).toBe(true);
  });

  it('shares one agent per upstream origin', () => {
    const routeA = selectRoute(index, '/', [sigV4('KEY-A')], undefined).route;
    const routeC = selectRoute(index, '/', [sigV4('KEY-C')], undefined).route;
    expect(routeA?.upstream.agent).toBe(routeC?.upstream.agent);
  });

  it('keeps agents across a rebuild', () => {
    const routeBefore = selectRoute(index, '/', [sigV4('KEY-A')], undefined).route;
    const rebuilt = new RouteIndex(tableOf(route('a', 'http://127.0.0.1:9001', ['KEY-A'])), pool);
    const routeAfter = selectRoute(rebuilt, '/', [sigV4('KEY-A')], undefined).route;
    expect(routeAfter?.upstream.agent).toBe(routeBefore?.upstream.agent);
  });

  it('parses IPv6 upstreams without brackets', () => {
    const ipv6 = new RouteIndex(tableOf(route('v6', 'http://[::1]:9005', ['KEY-6'])), new UpstreamPool(DEFAULT_PROXY_LIMITS));
    const upstream = ipv6.routeForAccessKey('KEY-6')?.upstream;
    expect(upstream?.hostname).toBe('::1');
    expect(upstream?.port).toBe(9005);
  });
});

describe('LogThrottle', () => {
  it('admits one event per interval and counts the rest', () => {
    let nowMs = 0;
    const throttle = new LogThrottle(1000, () => nowMs);

    expect(throttle.admit('a')).toBe(0);
    expect(throttle.admit('a')).toBeUndefined();
    expect(throttle.admit('b')).toBe(0);
    nowMs = 500;
    expect(throttle.admit('a')).toBeUndefined();
    nowMs = 1000;
    expect(throttle.admit('a')).toBe(2);
    expect(throttle.admit('a')).toBeUndefined();
  });
});
