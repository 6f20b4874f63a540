import { findAccessKey } from '../s3/credentials.js';
import type { S3ErrorBody } from '../s3/error-response.js';
import type { Route, RouteIndex } from './route-index.js';
import { ROUTING_TABLE_MISSING, tenantNotRunning, type ProxyFailure } from './upstream-errors.js';

/** Either the tenant that receives the request or the error the client gets instead. */
export type RouteSelection = { route: Route; failure?: undefined } | { route?: undefined; failure: ProxyFailure };

/**
 * Selects the tenant for a request: by the access key of its credentials, or for an
 * anonymous request by its Host header. `url` is the raw request target (`req.url`).
 */
export function selectRoute(
  index: RouteIndex | undefined,
  url: string,
  authorization: readonly string[],
  host: string | undefined,
): RouteSelection {
  if (index === undefined) {
    return { failure: ROUTING_TABLE_MISSING };
  }

  const queryStart = url.indexOf('?');
  const lookup = findAccessKey(authorization, queryStart === -1 ? '' : url.slice(queryStart + 1));
  if (!lookup.ok) {
    return { failure: { error: lookup.error, retryAfter: false } };
  }
  return lookup.mechanism === 'anonymous' ? selectRouteByHost(index, host) : selectRouteByAccessKey(index, lookup.accessKey);
}

/** Selects the tenant that owns `accessKey`. */
export function selectRouteByAccessKey(index: RouteIndex | undefined, accessKey: string): RouteSelection {
  if (index === undefined) {
    return { failure: ROUTING_TABLE_MISSING };
  }
  const route = index.routeForAccessKey(accessKey);
  if (route === undefined) {
    return { failure: { error: unknownAccessKey(accessKey), retryAfter: false } };
  }
  return runningRoute(route);
}

/** Selects the tenant of an anonymous request by its Host; `denied` is the error when none matches. */
export function selectRouteByHost(
  index: RouteIndex | undefined,
  host: string | undefined,
  denied: S3ErrorBody = ANONYMOUS_NOT_ROUTED,
): RouteSelection {
  if (index === undefined) {
    return { failure: ROUTING_TABLE_MISSING };
  }
  const route = index.routeForHost(host);
  if (route === undefined) {
    return { failure: { error: denied, retryAfter: false } };
  }
  return runningRoute(route);
}

function runningRoute(route: Route): RouteSelection {
  if (route.state !== 'running') {
    return { failure: tenantNotRunning(route.state) };
  }
  return { route };
}

const ANONYMOUS_NOT_ROUTED: S3ErrorBody = {
  status: 403,
  code: 'AccessDenied',
  message: 'Access Denied. The request has no credentials and its Host matches no tenant.',
};

/** The error S3 returns for an access key it does not know, with the key in <AWSAccessKeyId>. */
function unknownAccessKey(accessKey: string): S3ErrorBody {
  return {
    status: 403,
    code: 'InvalidAccessKeyId',
    message: 'The AWS Access Key Id you provided does not exist in our records.',
    extra: { AWSAccessKeyId: accessKey },
  };
}
