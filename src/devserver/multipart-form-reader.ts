import { S3Error } from './s3-error.js';

/**
 * A streaming reader of `multipart/form-data` bodies (RFC 7578), used for browser POST
 * uploads. Form fields are small and read into memory; the file part is streamed, so an
 * upload of any size uses constant memory.
 */
export class MultipartFormReader {
  private buffer: Buffer;
  private readonly delimiter: Buffer;
  private readonly iterator: AsyncIterator<Buffer>;
  private started = false;

  constructor(source: AsyncIterable<Buffer>, boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    // A leading CRLF makes the first boundary look like every later one.
    this.buffer = Buffer.from('\r\n');
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Moves to the next part and returns its headers (lowercase names), or undefined after the last part. */
  async nextPart(): Promise<Map<string, string> | undefined> {
    const index = await this.find(this.delimiter);
    if (index === -1) {
      throw malformed('a multipart boundary is missing');
    }
    if (!this.started) {
      this.started = true;
    } else if (index !== 0) {
      throw malformed('a part was not read to its end');
    }
    this.buffer = this.buffer.subarray(index + this.delimiter.length);
    await this.fill(2);
    const marker = this.buffer.subarray(0, 2).toString('latin1');
    if (marker === '--') {
      return undefined;
    }
    if (marker !== '\r\n') {
      throw malformed('a multipart boundary is not followed by CRLF');
    }

    const end = await this.find(Buffer.from('\r\n\r\n'), 2);
    if (end === -1) {
      throw malformed('the headers of a part do not end');
    }
    const headers = new Map<string, string>();
    for (const line of this.buffer.subarray(2, end).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    this.buffer = this.buffer.subarray(end + 4);
    return headers;
  }

  /** Reads the current part into memory; a field longer than `maxBytes` is an error. */
  async readValue(maxBytes: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.partBody()) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new S3Error(400, 'MaxPostPreDataLengthExceeded', `a form field is longer than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** Yields the current part's bytes up to the next boundary. */
  async *partBody(): AsyncGenerator<Buffer> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const index = this.buffer.indexOf(this.delimiter);
      if (index !== -1) {
        if (index > 0) {
          yield this.buffer.subarray(0, index);
        }
        this.buffer = this.buffer.subarray(index);
        return;
      }
      // Bytes that could start a boundary split across reads stay in the buffer.
      if (this.buffer.length > keep) {
        const ready = this.buffer.subarray(0, this.buffer.length - keep);
        this.buffer = this.buffer.subarray(this.buffer.length - keep);
        yield ready;
      }
      if (!(await this.pull())) {
        throw malformed('the body ended inside a part');
      }
    }
  }

  /** Reads and drops everything left, so the connection can be reused. */
  async drain(): Promise<void> {
    while (await this.pull()) {
      this.buffer = Buffer.alloc(0);
    }
  }

  private async find(needle: Buffer, from = 0): Promise<number> {
    for (;;) {
      const index = this.buffer.indexOf(needle, from);
      if (index !== -1 || !(await this.pull())) {
        return index;
      }
      if (this.buffer.length > 64 * 1024 + needle.length && !this.started) {
        throw malformed('no boundary in the first 64 KiB');
      }
    }
  }

  private async fill(length: number): Promise<void> {
    while (this.buffer.length < length) {
      if (!(await this.pull())) {
        throw malformed('the body ended after a boundary');
      }
    }
  }

  private async pull(): Promise<boolean> {
    const next = await this.iterator.next();
    if (next.done === true) {
      return false;
    }
    this.buffer = this.buffer.length === 0 ? next.value : Buffer.concat([this.buffer, next.value]);
    return true;
  }
}

/** Reads the boundary parameter of a multipart/form-data Content-Type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    return undefined;
  }
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Reads `name` and `filename` from a Content-Disposition: form-data header. */
export function dispositionParameters(header: string | undefined): { name?: string; filename?: string } {
  const result: { name?: string; filename?: string } = {};
  for (const match of (header ?? '').matchAll(/;\s*(name|filename)="((?:[^"\\]|\\.)*)"/gi)) {
    result[match[1]!.toLowerCase() as 'name' | 'filename'] = match[2]!.replace(/\\(.)/g, '$1');
  }
  return result;
}

function malformed(detail: string): S3Error {
  return new S3Error(400, 'MalformedPOSTRequest', `the multipart/form-data body is malformed: ${detail}`);
}
