import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * An S3 error as the REST API returns it, see
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
export interface S3ErrorBody {
  status: number;
  code: string;
  message: string;
  resource?: string;
  /** Extra child elements of <Error>, such as <StringToSign> or <AccessKeyId>. */
  extra?: Record<string, string>;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
}

export function newRequestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

export function renderS3Error(error: S3ErrorBody, requestId: string): string {
  const children: string[] = [
    `<Code>${escapeXml(error.code)}</Code>`,
    `<Message>${escapeXml(error.message)}</Message>`,
  ];
  if (error.resource !== undefined) {
    children.push(`<Resource>${escapeXml(error.resource)}</Resource>`);
  }
  for (const [name, value] of Object.entries(error.extra ?? {})) {
    children.push(`<${name}>${escapeXml(value)}</${name}>`);
  }
  children.push(`<RequestId>${requestId}</RequestId>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${children.join('')}</Error>`;
}

/**
 * Sends an S3 XML error and ends the response. A HEAD request gets the status and
 * headers only, as S3 does. Safe to call after headers were sent: it then only
 * destroys the socket, since the client already saw a status line.
 */
export function sendS3Error(
  res: ServerResponse,
  error: S3ErrorBody,
  options: { headers?: Record<string, string>; method?: string } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = newRequestId();
  const body = options.method === 'HEAD' ? '' : renderS3Error(error, requestId);
  res.writeHead(error.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
    ...options.headers,
  });
  res.end(body);
}
