import { findAccessKey } from '../s3/credentials.js';
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

  let route: Route | undefined;
  if (lookup.mechanism === 'anonymous') {
    route = index.routeForHost(host);
    if (route === undefined) {
      return { failure: { error: ANONYMOUS_NOT_ROUTED, retryAfter: false } };
    }
  } else {
    route = index.routeForAccessKey(lookup.accessKey);
    if (route === undefined) {
      return { failure: { error: unknownAccessKey(lookup.accessKey), retryAfter: false } };
    }
  }

  if (route.state !== 'running') {
    return { failure: tenantNotRunning(route.tenant, route.state) };
  }
  return { route };
}

const ANONYMOUS_NOT_ROUTED = {
  status: 403,
  code: 'AccessDenied',
  message: 'Access Denied. The request has no credentials and its Host matches no tenant.',
};

/** The error S3 returns for an access key it does not know, with the key in <AWSAccessKeyId>. */
function unknownAccessKey(accessKey: string) {
  return {
    status: 403,
    code: 'InvalidAccessKeyId',
    message: 'The AWS Access Key Id you provided does not exist in our records.',
    extra: { AWSAccessKeyId: accessKey },
  };
}
