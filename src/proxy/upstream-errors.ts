import { errnoCode } from '../errors.js';
import type { S3ErrorBody } from '../s3/error-response.js';
import type { TenantState } from '../routing/routes-file.js';

/** The error that the upstream idle timeout destroys a request with. */
export class UpstreamIdleTimeoutError extends Error {
  readonly code = 'UPSTREAM_IDLE_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`the upstream sent nothing for ${timeoutMs} ms`);
    this.name = 'UpstreamIdleTimeoutError';
  }
}

/** An S3 error for the client and whether it gets a Retry-After header. */
export interface ProxyFailure {
  error: S3ErrorBody;
  retryAfter: boolean;
}

/**
 * Errors that mean the tenant's server could not take the request: it is not listening,
 * it closed or reset the connection, or the connect timed out. S3 clients retry 503.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UPSTREAM_CONNECT_TIMEOUT',
]);

/**
 * Maps an upstream failure before the response started to the S3 error for the client:
 *
 * - unreachable (refused, reset, connect timeout): 503 ServiceUnavailable with Retry-After
 * - no bytes from the upstream for the idle timeout: 504 GatewayTimeout, because the
 *   server may have acted on the request; AWS SDKs retry 504 like 503
 * - anything else, such as an invalid response: 502 BadGateway
 */
export function mapUpstreamFailure(cause: unknown): ProxyFailure {
  const code = errnoCode(cause);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return {
      error: { status: 503, code: 'ServiceUnavailable', message: `The storage server for this access key is unreachable (${code}). Please retry.` },
      retryAfter: true,
    };
  }
  if (code === 'UPSTREAM_IDLE_TIMEOUT') {
    return {
      error: { status: 504, code: 'GatewayTimeout', message: 'The storage server for this access key did not respond in time.' },
      retryAfter: false,
    };
  }
  return {
    error: { status: 502, code: 'BadGateway', message: `The storage server for this access key failed (${code ?? 'unknown error'}).` },
    retryAfter: false,
  };
}

const NOT_RUNNING_MESSAGES: Record<TenantState, string> = {
  starting: 'The storage server for this access key is starting. Please retry.',
  restarting: 'The storage server for this access key is restarting. Please retry.',
  running: 'The storage server for this access key is unavailable. Please retry.',
  failed: 'The storage server for this access key is down until its operator restarts it.',
  stopped: 'The storage server for this access key is stopped.',
};

/**
 * Returns the 503 for a tenant whose server is not in the `running` state. Error messages
 * never name the tenant, because anyone holding a presigned URL would learn it.
 */
export function tenantNotRunning(state: TenantState): ProxyFailure {
  return {
    error: { status: 503, code: 'ServiceUnavailable', message: NOT_RUNNING_MESSAGES[state] },
    retryAfter: true,
  };
}

/** The 503 for every request while no routing table has been loaded. */
export const ROUTING_TABLE_MISSING: ProxyFailure = {
  error: { status: 503, code: 'ServiceUnavailable', message: 'The proxy has no routing table yet. Please retry.' },
  retryAfter: true,
};
