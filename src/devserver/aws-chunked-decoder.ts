import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Decoder for the `aws-chunked` content encoding that S3 clients use for streaming uploads:
 * `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` repeated, ending with a zero-size chunk and,
 * for the `*-TRAILER` variants, trailing headers such as `x-amz-checksum-crc32:<base64>`.
 * Format: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */

export class ChunkedBodyError extends Error {
  constructor(
    readonly s3Code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ChunkedBodyError';
  }
}

export interface AwsChunkedOptions {
  /**
   * Returns the expected signature of the next chunk given the previous signature and the
   * hex SHA-256 of the chunk data. Omitted for unsigned payloads, where a chunk must carry
   * no signature.
   */
  expectedChunkSignature?: (previousSignature: string, dataSha256Hex: string) => string;
  /** The signature of the request headers, which the first chunk signature chains from. */
  seedSignature?: string;
}

/** Longest header or trailer line accepted; real chunk headers are under 100 bytes. */
const MAX_LINE_BYTES = 4096;
const EMPTY_SHA256 = createHash('sha256').digest('hex');

type State = 'size-line' | 'data' | 'data-crlf' | 'trailer-line' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers, lowercase names, available after the stream ends. */
  readonly trailers = new Map<string, string>();
  /** Number of decoded payload bytes passed on so far. */
  decodedBytes = 0;

  private state: State = 'size-line';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkHash = createHash('sha256');
  private chunkSignature: string | undefined;
  private previousSignature: string;

  constructor(private readonly options: AwsChunkedOptions = {}) {
    super();
    this.previousSignature = options.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'done' && !(this.state === 'trailer-line' && this.line.length === 0)) {
      callback(new ChunkedBodyError('IncompleteBody', 'the aws-chunked body ended before its final zero-size chunk'));
      return;
    }
    callback();
  }

  private consume(input: Buffer): void {
    let offset = 0;
    while (offset < input.length) {
      switch (this.state) {
        case 'size-line':
        case 'trailer-line': {
          const end = input.indexOf(0x0a, offset);
          const piece = input.subarray(offset, end === -1 ? input.length : end + 1);
          offset += piece.length;
          this.line = this.line.length === 0 ? Buffer.from(piece) : Buffer.concat([this.line, piece]);
          if (this.line.length > MAX_LINE_BYTES) {
            throw malformed('a chunk header or trailer line is longer than 4096 bytes');
          }
          if (end !== -1) {
            const text = takeLine(this.line);
            this.line = Buffer.alloc(0);
            if (this.state === 'size-line') {
              this.startChunk(text);
            } else {
              this.addTrailer(text);
            }
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, input.length - offset);
          const data = input.subarray(offset, offset + take);
          offset += take;
          this.remaining -= take;
          this.decodedBytes += take;
          this.chunkHash.update(data);
          this.push(data);
          if (this.remaining === 0) {
            this.state = 'data-crlf';
            this.line = Buffer.alloc(0);
          }
          break;
        }
        case 'data-crlf': {
          const need = 2 - this.line.length;
          const piece = input.subarray(offset, offset + need);
          offset += piece.length;
          this.line = Buffer.concat([this.line, piece]);
          if (this.line.length === 2) {
            if (this.line[0] !== 0x0d || this.line[1] !== 0x0a) {
              throw malformed('chunk data is not followed by CRLF, so the chunk size does not match its data');
            }
            this.line = Buffer.alloc(0);
            this.verifyChunk(this.chunkHash.digest('hex'));
            this.state = 'size-line';
          }
          break;
        }
        case 'done':
          throw malformed('the aws-chunked body has bytes after its final chunk');
      }
    }
  }

  private startChunk(line: string): void {
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) {
      throw malformed(`the chunk size "${sizeText.slice(0, 32)}" is not a hexadecimal number`);
    }
    const size = Number.parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) {
      throw malformed(`the chunk size "${sizeText}" is too large`);
    }
    this.chunkSignature = parseChunkSignature(extensions);
    if (this.options.expectedChunkSignature !== undefined && this.chunkSignature === undefined) {
      throw malformed('a chunk of a signed streaming body has no chunk-signature');
    }
    if (this.options.expectedChunkSignature === undefined && this.chunkSignature !== undefined) {
      throw malformed('a chunk of an unsigned streaming body carries a chunk-signature');
    }

    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256);
      this.state = 'trailer-line';
      return;
    }
    this.remaining = size;
    this.chunkHash = createHash('sha256');
    this.state = 'data';
  }

  private verifyChunk(dataSha256Hex: string): void {
    const expected = this.options.expectedChunkSignature;
    if (expected === undefined || this.chunkSignature === undefined) {
      return;
    }
    const expectedSignature = expected(this.previousSignature, dataSha256Hex);
    if (expectedSignature !== this.chunkSignature) {
      throw new ChunkedBodyError(
        'SignatureDoesNotMatch',
        'a chunk signature of the aws-chunked body does not match; check the secret key and that the body was not changed',
      );
    }
    this.previousSignature = this.chunkSignature;
  }

  private addTrailer(line: string): void {
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw malformed(`the trailer line "${line.slice(0, 64)}" has no "name:value" form`);
    }
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}

function malformed(detail: string): ChunkedBodyError {
  return new ChunkedBodyError('IncompleteBody', `malformed aws-chunked body: ${detail}`);
}

/** Strips the line ending; S3 clients send CRLF, a bare LF is tolerated. */
function takeLine(line: Buffer): string {
  const end = line.length >= 2 && line[line.length - 2] === 0x0d ? line.length - 2 : line.length - 1;
  return line.subarray(0, end).toString('latin1');
}

function parseChunkSignature(extensions: string[]): string | undefined {
  for (const extension of extensions) {
    const [name, value] = extension.split('=');
    if (name?.trim() === 'chunk-signature' && value !== undefined) {
      return value.trim();
    }
  }
  return undefined;
}
