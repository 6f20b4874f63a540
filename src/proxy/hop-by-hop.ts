/**
 * Header handling for forwarding. Headers are taken from `rawHeaders`, a flat
 * [name, value, name, value, …] list, so names keep their case, order and repeats.
 *
 * Connection-specific fields are dropped as RFC 9110 section 7.6.1 requires of an
 * intermediary: Connection, every field that Connection names, Keep-Alive,
 * Proxy-Connection, TE and Upgrade. Proxy-Authorization is dropped as well, because
 * it carries credentials for the first proxy that asked for them (RFC 9110, field
 * "Proxy-Authorization") and S3 does not use it, so forwarding it would only leak it
 * to the tenant's server.
 *
 * Transfer-Encoding is connection-specific too, but it is forwarded unchanged: Node's
 * HTTP client frames the outgoing body by it, so a chunked body stays chunked and a
 * body with Content-Length is never re-chunked. Content-Length, Transfer-Encoding and
 * Host are kept even when Connection names them, because removing them would change
 * how the upstream frames or routes the message.
 */

/** The result of one pass over a request's raw headers. */
export interface ScannedRequestHeaders {
  /** Headers to send upstream, as a flat name/value list. */
  forward: string[];
  /** Every Authorization value, in order. Node's `req.headers` keeps only the first. */
  authorization: string[];
  host: string | undefined;
  /** The first Content-Length value; Node's parser rejects requests whose values differ. */
  contentLength: string | undefined;
  hasTransferEncoding: boolean;
  /** The client (or a proxy before this one) sent X-Forwarded-For. */
  hasForwardedFor: boolean;
  hasForwardedProto: boolean;
}

/** Scans request headers once: collects what routing needs and the headers to forward. */
export function scanRequestHeaders(rawHeaders: readonly string[]): ScannedRequestHeaders {
  const result: ScannedRequestHeaders = {
    forward: [],
    authorization: [],
    host: undefined,
    contentLength: undefined,
    hasTransferEncoding: false,
    hasForwardedFor: false,
    hasForwardedProto: false,
  };
  let connectionValues: string[] | undefined;

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    switch (classifyHeader(name)) {
      case HeaderKind.Connection:
        (connectionValues ??= []).push(value);
        continue;
      case HeaderKind.HopByHop:
        continue;
      case HeaderKind.Authorization:
        result.authorization.push(value);
        break;
      case HeaderKind.Host:
        result.host ??= value;
        break;
      case HeaderKind.ContentLength:
        result.contentLength ??= value;
        break;
      case HeaderKind.TransferEncoding:
        result.hasTransferEncoding = true;
        break;
      case HeaderKind.ForwardedFor:
        result.hasForwardedFor = true;
        break;
      case HeaderKind.ForwardedProto:
        result.hasForwardedProto = true;
        break;
      case HeaderKind.EndToEnd:
        break;
    }
    result.forward.push(name, value);
  }

  if (connectionValues !== undefined) {
    result.forward = removeConnectionOptions(result.forward, connectionValues);
  }
  return result;
}

/**
 * Filters a response's raw headers for the client. `dropTransferEncoding` is for
 * HTTP/1.0 clients, which cannot read a chunked body: Node then ends the body by
 * closing the connection.
 */
export function filterResponseHeaders(rawHeaders: readonly string[], dropTransferEncoding: boolean): string[] {
  const forward: string[] = [];
  let connectionValues: string[] | undefined;

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const kind = classifyHeader(name);
    if (kind === HeaderKind.Connection) {
      (connectionValues ??= []).push(value);
      continue;
    }
    if (kind === HeaderKind.HopByHop || (dropTransferEncoding && kind === HeaderKind.TransferEncoding)) {
      continue;
    }
    forward.push(name, value);
  }

  return connectionValues === undefined ? forward : removeConnectionOptions(forward, connectionValues);
}

const enum HeaderKind {
  EndToEnd,
  Connection,
  HopByHop,
  Authorization,
  Host,
  ContentLength,
  TransferEncoding,
  ForwardedFor,
  ForwardedProto,
}

/**
 * Classifies a header name. The switch on length means that most names are never
 * lower-cased, which keeps the per-request cost low.
 */
function classifyHeader(name: string): HeaderKind {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te' ? HeaderKind.HopByHop : HeaderKind.EndToEnd;
    case 4:
      return name.toLowerCase() === 'host' ? HeaderKind.Host : HeaderKind.EndToEnd;
    case 7:
      return name.toLowerCase() === 'upgrade' ? HeaderKind.HopByHop : HeaderKind.EndToEnd;
    case 10: {
      const lower = name.toLowerCase();
      if (lower === 'connection') {
        return HeaderKind.Connection;
      }
      return lower === 'keep-alive' ? HeaderKind.HopByHop : HeaderKind.EndToEnd;
    }
    case 13:
      return name.toLowerCase() === 'authorization' ? HeaderKind.Authorization : HeaderKind.EndToEnd;
    case 14:
      return name.toLowerCase() === 'content-length' ? HeaderKind.ContentLength : HeaderKind.EndToEnd;
    case 15:
      // Checking the first letter spares the common Accept-Encoding and Accept-Language a lower-casing.
      return (name.charCodeAt(0) | 0x20) === 0x78 && name.toLowerCase() === 'x-forwarded-for' ? HeaderKind.ForwardedFor : HeaderKind.EndToEnd;
    case 16:
      return name.toLowerCase() === 'proxy-connection' ? HeaderKind.HopByHop : HeaderKind.EndToEnd;
    case 17: {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding') {
        return HeaderKind.TransferEncoding;
      }
      return lower === 'x-forwarded-proto' ? HeaderKind.ForwardedProto : HeaderKind.EndToEnd;
    }
    case 19:
      return name.toLowerCase() === 'proxy-authorization' ? HeaderKind.HopByHop : HeaderKind.EndToEnd;
    default:
      return HeaderKind.EndToEnd;
  }
}

/** Field names that a Connection header may not remove, see the file comment. */
const PROTECTED_FROM_CONNECTION = new Set(['host', 'content-length', 'transfer-encoding']);

/** Removes the fields that Connection names (RFC 9110 section 7.6.1), such as `Connection: x-trace`. */
function removeConnectionOptions(headers: string[], connectionValues: readonly string[]): string[] {
  const named = new Set<string>();
  for (const value of connectionValues) {
    for (const token of value.split(',')) {
      const option = token.trim().toLowerCase();
      if (option !== '' && option !== 'close' && option !== 'keep-alive' && !PROTECTED_FROM_CONNECTION.has(option)) {
        named.add(option);
      }
    }
  }
  if (named.size === 0) {
    return headers;
  }

  const remaining: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!named.has(name.toLowerCase())) {
      remaining.push(name, headers[i + 1] as string);
    }
  }
  return remaining;
}
