import type { ServerResponse } from 'node:http';
import { newRequestId } from '../s3/error-response.js';

export function sendXml(res: ServerResponse, status: number, xml: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(xml),
    'x-amz-request-id': newRequestId(),
    ...headers,
  });
  res.end(xml);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { 'Content-Length': 0, 'x-amz-request-id': newRequestId(), ...headers });
  res.end();
}

/** S3 dates in XML bodies: ISO 8601 with milliseconds. */
export function isoDate(value: string | Date): string {
  return new Date(value).toISOString();
}

/** The owner shown in listings; a single-user server has one owner. */
export const OWNER_XML =
  '<Owner><ID>02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4</ID><DisplayName>minio</DisplayName></Owner>';
