import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { newRequestId, renderS3Error, sendS3Error, type S3ErrorBody } from '../s3/error-response.js';

/**
 * Responds to a request that Node's HTTP parser rejected (the server's 'clientError' event)
 * with an S3 XML error instead of Node's empty default, then closes the connection.
 * Error codes from https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
export function handleClientError(error: Error & { code?: string }, socket: Duplex, logger: Logger): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }

  const s3Error = clientErrorToS3(error.code);
  logger.debug({ code: error.code, status: s3Error.status }, 'client request rejected by the parser');
  const body = renderS3Error(s3Error, newRequestId());
  socket.write(
    `HTTP/1.1 ${s3Error.status} ${STATUS_CODES[s3Error.status] ?? ''}\r\n` +
      'Content-Type: application/xml\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  // Same order as Node's default handler: the small response is written, then the socket closed.
  socket.destroy();
}

function clientErrorToS3(code: string | undefined): S3ErrorBody {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'RequestHeaderSectionTooLarge',
        message: 'Your request header section exceeds the maximum allowed size.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'RequestTimeout',
        message: 'Your socket connection to the server was not read from or written to within the timeout period.',
      };
    default:
      return { status: 400, code: 'BadRequest', message: `The request is not valid HTTP/1.1 (${code ?? 'parse error'}).` };
  }
}

const REQUEST_TIMEOUT: S3ErrorBody = {
  status: 408,
  code: 'RequestTimeout',
  message: 'Your socket connection to the server was not read from or written to within the timeout period.',
};

/** Time a timed-out client gets to read its error before the connection is destroyed. */
const TIMEOUT_ERROR_GRACE_MS = 1_000;

/**
 * Handles a client connection without traffic for the socket idle timeout (the server's
 * 'timeout' event). A request whose body stalled before any response gets 408
 * RequestTimeout, then the connection closes. Otherwise the connection is destroyed:
 * an idle keep-alive connection has no request, and a started response can only be cut.
 * Closing the client connection also aborts the upstream request.
 */
export function handleSocketTimeout(socket: Duplex, logger: Logger): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight === undefined || inFlight === null || inFlight.headersSent || !socket.writable) {
    socket.destroy();
    return;
  }
  logger.debug({ status: REQUEST_TIMEOUT.status }, 'client connection idle, request timed out');
  sendS3Error(inFlight, REQUEST_TIMEOUT, { headers: { Connection: 'close' } });
  // Node no longer tracks a request once its response finished, so the unfinished upload
  // is destroyed here, which also aborts its upstream request.
  inFlight.once('finish', () => inFlight.req.destroy());
  // A client that does not read the error either must not keep the socket.
  setTimeout(() => socket.destroy(), TIMEOUT_ERROR_GRACE_MS).unref();
}
