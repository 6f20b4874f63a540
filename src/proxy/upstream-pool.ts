import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** Connection settings for tenant servers. */
export interface UpstreamLimits {
  /** Time allowed for the TCP connect before the request fails with 503. */
  connectTimeoutMs: number;
  /** How long an idle keep-alive connection stays in the pool. */
  freeSocketTimeoutMs: number;
  /** Max concurrent connections to one server; further requests wait in the agent's queue. */
  maxSockets: number;
  /** Max idle keep-alive connections kept per server. */
  maxFreeSockets: number;
}

/** One tenant server: where to connect and the keep-alive agent that pools connections to it. */
export interface Upstream {
  /** Base URL from the routing table, such as `http://127.0.0.1:9001`. */
  origin: string;
  hostname: string;
  port: number;
  request: typeof http.request;
  agent: http.Agent;
}

/** The error that a connect timeout destroys the socket with. */
export class UpstreamConnectTimeoutError extends Error {
  readonly code = 'UPSTREAM_CONNECT_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`connecting to the upstream timed out after ${timeoutMs} ms`);
    this.name = 'UpstreamConnectTimeoutError';
  }
}

/**
 * Keeps one agent per upstream origin across routing table reloads, so that a reload
 * keeps warm connections to servers that did not move.
 */
export class UpstreamPool {
  private upstreams = new Map<string, Upstream>();

  constructor(private readonly limits: UpstreamLimits) {}

  /**
   * Returns the upstreams for `origins`, reusing existing agents. Upstreams no longer
   * listed leave the pool but are not destroyed: requests in flight keep their sockets,
   * and idle sockets close after `freeSocketTimeoutMs`.
   */
  update(origins: Iterable<string>): Map<string, Upstream> {
    const next = new Map<string, Upstream>();
    for (const origin of origins) {
      next.set(origin, this.upstreams.get(origin) ?? this.createUpstream(origin));
    }
    this.upstreams = next;
    return next;
  }

  /** Destroys every pooled connection, including those of requests in flight. */
  destroy(): void {
    for (const upstream of this.upstreams.values()) {
      upstream.agent.destroy();
    }
    this.upstreams.clear();
  }

  private createUpstream(origin: string): Upstream {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    const options: http.AgentOptions = {
      keepAlive: true,
      // Also the socket timeout of idle pooled sockets; requests set their own.
      timeout: this.limits.freeSocketTimeoutMs,
      maxSockets: this.limits.maxSockets,
      maxFreeSockets: this.limits.maxFreeSockets,
      scheduling: 'lifo',
      noDelay: true,
    };
    const agent = secure ? new https.Agent(options) : new http.Agent(options);
    // NOTE: https upstreams have no connect timeout, because tenants run on loopback over http.
    if (!secure) {
      installConnectTimeout(agent, this.limits.connectTimeoutMs);
    }
    const defaultPort = secure ? 443 : 80;
    return {
      origin,
      // URL keeps brackets around an IPv6 literal, which net.connect does not accept.
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? defaultPort : Number(url.port),
      request: secure ? https.request : http.request,
      agent,
    };
  }
}

/**
 * Adds a connect timeout to new sockets only, so that requests on reused keep-alive
 * sockets pay nothing for it.
 */
function installConnectTimeout(agent: http.Agent, timeoutMs: number): void {
  agent.createConnection = (options): Duplex => {
    const socket = net.createConnection(options as net.NetConnectOpts);
    const timer = setTimeout(() => socket.destroy(new UpstreamConnectTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
}
