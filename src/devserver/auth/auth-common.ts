import { timingSafeEqual } from 'node:crypto';
import { S3Error } from '../s3-error.js';

/** S3 rejects a signed request whose time is more than 15 minutes from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export function checkClockSkew(requestTime: Date, now: Date): void {
  if (Math.abs(now.getTime() - requestTime.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'the difference between the request time and the server time is more than 15 minutes; fix the client clock',
    );
  }
}

/** Compares in constant time, so a signature cannot be guessed byte by byte. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}
