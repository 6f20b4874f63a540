import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { newRequestId, renderS3Error, type S3ErrorBody } from '../s3/error-response.js';

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
