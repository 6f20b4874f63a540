import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { PayloadCheck } from './auth/authenticate.js';
import { AwsChunkedDecoder, ChunkedBodyError } from './aws-chunked-decoder.js';
import { singleHeader, type RequestContext } from './request-context.js';
import { S3Error } from './s3-error.js';

export interface ReceivedBody {
  size: number;
  md5Hex: string;
}

/** The largest XML or JSON request body (a DeleteObjects list of 1000 keys is about 100 KiB). */
export const MAX_SMALL_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Streams a request body into `sink`, decoding aws-chunked framing and checking every
 * integrity claim of the request: x-amz-content-sha256, chunk signatures,
 * x-amz-decoded-content-length, Content-MD5 and an x-amz-checksum-crc32 header or trailer.
 * Throws an S3Error when a check fails; the caller then discards what the sink received.
 */
export async function receiveBody(
  req: IncomingMessage,
  context: RequestContext,
  payload: PayloadCheck,
  sink: Writable,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<ReceivedBody> {
  const decoder =
    payload.kind === 'aws-chunked'
      ? new AwsChunkedDecoder(payload.signed === undefined ? {} : payload.signed)
      : undefined;
  const meter = new BodyMeter(payload.kind === 'sha256', maxBytes);

  const first = decoder ?? meter;
  // req is piped rather than put in the pipeline, because a pipeline destroys its source on
  // error and that would cut the connection before the S3 error response is sent.
  const onAbort = (): void => {
    if (!req.readableEnded) {
      first.destroy(new S3Error(400, 'IncompleteBody', 'the client closed the connection before sending the whole body'));
    }
  };
  req.once('close', onAbort);
  req.pipe(first);
  try {
    if (decoder === undefined) {
      await pipeline(meter, sink);
    } else {
      await pipeline(decoder, meter, sink);
    }
  } catch (error) {
    throw bodyError(error);
  } finally {
    req.off('close', onAbort);
    req.unpipe(first);
  }

  checkPayloadHash(payload, meter);
  if (payload.kind === 'aws-chunked' && payload.decodedLength !== undefined && payload.decodedLength !== meter.size) {
    throw new S3Error(
      400,
      'IncompleteBody',
      `the decoded body has ${meter.size} bytes but x-amz-decoded-content-length says ${payload.decodedLength}`,
    );
  }
  checkContentMd5(context, meter);
  checkCrc32(singleHeader(context, 'x-amz-checksum-crc32') ?? decoder?.trailers.get('x-amz-checksum-crc32'), meter);
  return { size: meter.size, md5Hex: meter.md5Hex };
}

/** Reads a small body such as an XML request into memory, with the same checks. */
export async function receiveSmallBody(
  req: IncomingMessage,
  context: RequestContext,
  payload: PayloadCheck,
  maxBytes = MAX_SMALL_BODY_BYTES,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collector = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await receiveBody(req, context, payload, collector, maxBytes);
  return Buffer.concat(chunks);
}

/** Counts and hashes the decoded bytes as they pass. */
class BodyMeter extends Transform {
  size = 0;
  md5Hex = '';
  sha256Hex = '';
  crc32 = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256: Hash | undefined;

  constructor(
    withSha256: boolean,
    private readonly maxBytes: number,
  ) {
    super();
    this.sha256 = withSha256 ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      callback(new S3Error(400, 'EntityTooLarge', `the request body is larger than ${this.maxBytes} bytes`));
      return;
    }
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    this.crc32 = crc32(chunk, this.crc32);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.md5Hex = this.md5.digest('hex');
    this.sha256Hex = this.sha256?.digest('hex') ?? '';
    callback();
  }
}

/** zlib.crc32 exists from Node 20.15 and 22.2; on older versions the checksum is not verified. */
const zlibCrc32 = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;

function crc32(chunk: Buffer, previous: number): number {
  return zlibCrc32 === undefined ? 0 : zlibCrc32(chunk, previous);
}

function checkPayloadHash(payload: PayloadCheck, meter: BodyMeter): void {
  if (payload.kind === 'sha256' && payload.expectedHex !== meter.sha256Hex) {
    throw new S3Error(
      400,
      'XAmzContentSHA256Mismatch',
      'the SHA-256 of the received body does not match the x-amz-content-sha256 header; the object was not stored',
    );
  }
}

function checkContentMd5(context: RequestContext, meter: BodyMeter): void {
  const contentMd5 = singleHeader(context, 'content-md5');
  if (contentMd5 === undefined) {
    return;
  }
  if (Buffer.from(contentMd5, 'base64').toString('hex') !== meter.md5Hex) {
    throw new S3Error(400, 'BadDigest', 'the Content-MD5 you specified did not match what was received');
  }
}

function checkCrc32(expectedBase64: string | undefined, meter: BodyMeter): void {
  if (expectedBase64 === undefined || zlibCrc32 === undefined) {
    return;
  }
  const actual = Buffer.alloc(4);
  actual.writeUInt32BE(meter.crc32 >>> 0);
  if (actual.toString('base64') !== expectedBase64) {
    throw new S3Error(400, 'BadDigest', 'the x-amz-checksum-crc32 you specified did not match the CRC32 of the received body');
  }
}

function bodyError(error: unknown): unknown {
  if (error instanceof ChunkedBodyError) {
    return new S3Error(error.s3Code === 'SignatureDoesNotMatch' ? 403 : 400, error.s3Code, error.message);
  }
  if (error instanceof S3Error) {
    return error;
  }
  if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
    return new S3Error(400, 'IncompleteBody', 'the client closed the connection before sending the whole body');
  }
  return error;
}
