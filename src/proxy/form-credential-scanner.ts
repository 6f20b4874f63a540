import { CredentialParseError, parseSigV4Scope } from '../s3/credentials.js';
import type { S3ErrorBody } from '../s3/error-response.js';

/**
 * Finds the access key of a browser POST upload (S3 POST Object with a POST policy) in
 * the form fields that precede the file. The scanner is pure and incremental: the
 * caller feeds body chunks as they arrive and gets a decision as soon as one is
 * possible, so the file itself never needs to be read.
 *
 * Form format: RFC 7578 (multipart/form-data) on RFC 2046 section 5.1 (boundaries).
 * Field names: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html
 * (SigV4, `x-amz-credential`) and https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html
 * (SigV2, `AWSAccessKeyId`). S3 ignores every field after the file, so a credential
 * there does not count.
 *
 * Lines may end with CRLF or a bare LF. The first boundary line decides which, as in
 * Go's mime/multipart, which MinIO uses to read these forms.
 */

/** Default bound on the form bytes held before the credential field is found. */
export const DEFAULT_MAX_FORM_PREFIX_BYTES = 64 * 1024;

export type FormScanResult =
  /** The credential field was read; the form is signed with this access key. */
  | { kind: 'found'; mechanism: 'v4-form' | 'v2-form'; accessKey: string }
  /** The file part started, or the form ended, before any credential field: an anonymous upload. */
  | { kind: 'anonymous'; reason: 'file-first' | 'form-ended' }
  | { kind: 'need-more' }
  | { kind: 'error'; error: S3ErrorBody };

const NEED_MORE: FormScanResult = { kind: 'need-more' };

/** Field names, lower-cased and matched in any case, because clients spell them differently (`X-Amz-Credential`, `x-amz-credential`). */
const V4_CREDENTIAL_FIELD = 'x-amz-credential';
const V2_ACCESS_KEY_FIELD = 'awsaccesskeyid';
const FILE_FIELD = 'file';

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

type Phase = 'first-boundary' | 'after-boundary' | 'part-headers' | 'part-body' | 'done';

/**
 * Returns the boundary of a `multipart/form-data` Content-Type, or undefined when the
 * media type is another one. The boundary may be quoted (RFC 2045 section 5.1) and has
 * 1 to 70 characters (RFC 2046 section 5.1.1). A missing or invalid one is returned as ''.
 */
export function parseFormBoundary(contentType: string): string | undefined {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (mediaType !== 'multipart/form-data') {
    return undefined;
  }
  const boundary = semicolon === -1 ? undefined : parseParameters(contentType.slice(semicolon + 1)).get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70) {
    return '';
  }
  return boundary;
}

/**
 * An incremental scanner of one form body. `push()` each chunk until the result is not
 * `need-more`, then call `end()` if the body ended first. The scanner keeps at most
 * `maxPrefixBytes` of the body. A form whose credential field does not end within
 * them gets 400 MaxPostPreDataLengthExceeded, the S3 error for too large fields before
 * the file.
 */
export class FormCredentialScanner {
  /** Grows by doubling up to maxPrefixBytes, so byte-sized chunks do not copy the prefix each time. */
  private storage = Buffer.alloc(0);
  /** The bytes held, a view of `storage`. */
  private data = Buffer.alloc(0);
  private position = 0;
  private phase: Phase = 'first-boundary';
  /** `\r\n--<boundary>` or `\n--<boundary>`, set by the first boundary line. */
  private delimiter: Buffer | undefined;
  private readonly dashBoundary: Buffer;
  private partField: string | undefined;
  private partIsFile = false;
  private partBodyStart = 0;
  private decided: FormScanResult | undefined;

  constructor(
    boundary: string,
    private readonly maxPrefixBytes = DEFAULT_MAX_FORM_PREFIX_BYTES,
  ) {
    this.dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
  }

  /** Adds the next body chunk and scans as far as the bytes held allow. */
  push(chunk: Buffer): FormScanResult {
    if (this.decided !== undefined) {
      return this.decided;
    }
    // Bytes past the bound can never hold a credential that counts, so they are not kept.
    const room = this.maxPrefixBytes - this.data.length;
    const truncated = chunk.length > room;
    this.append(truncated ? chunk.subarray(0, room) : chunk);

    const result = this.scan();
    if (result.kind !== 'need-more') {
      return this.decide(result);
    }
    if (truncated || this.data.length >= this.maxPrefixBytes) {
      return this.decide({ kind: 'error', error: prefixTooLarge(this.maxPrefixBytes) });
    }
    return NEED_MORE;
  }

  /** Reports the end of the body: a form that ends before a decision is malformed. */
  end(): FormScanResult {
    return this.decided ?? this.decide({ kind: 'error', error: malformedForm('the body ended inside the form fields') });
  }

  private append(bytes: Buffer): void {
    const length = this.data.length + bytes.length;
    if (length > this.storage.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxPrefixBytes, Math.max(length, this.storage.length * 2, 1024)));
      this.data.copy(grown);
      this.storage = grown;
    }
    bytes.copy(this.storage, this.data.length);
    this.data = this.storage.subarray(0, length);
  }

  private decide(result: FormScanResult): FormScanResult {
    this.decided = result;
    this.phase = 'done';
    // The caller keeps the chunks it forwards, so the scanner's copy can go.
    this.storage = Buffer.alloc(0);
    this.data = this.storage;
    return result;
  }

  /** Runs the phases until one needs more bytes or a decision is reached. */
  private scan(): FormScanResult {
    for (;;) {
      let step: FormScanResult | 'continue';
      switch (this.phase) {
        case 'first-boundary':
          step = this.scanFirstBoundary();
          break;
        case 'after-boundary':
          step = this.scanAfterBoundary();
          break;
        case 'part-headers':
          step = this.scanPartHeaders();
          break;
        case 'part-body':
          step = this.scanPartBody();
          break;
        case 'done':
          return this.decided ?? NEED_MORE;
      }
      if (step !== 'continue') {
        return step;
      }
    }
  }

  /** Skips the preamble up to the first `--<boundary>` at the start of a line. */
  private scanFirstBoundary(): FormScanResult | 'continue' {
    let from = this.position;
    for (;;) {
      const index = this.data.indexOf(this.dashBoundary, from);
      if (index === -1) {
        // Keep scanning from where a boundary split across chunks could start.
        this.position = Math.max(this.position, this.data.length - this.dashBoundary.length);
        return NEED_MORE;
      }
      if (index === 0 || this.data[index - 1] === LF) {
        this.position = index + this.dashBoundary.length;
        this.phase = 'after-boundary';
        return 'continue';
      }
      from = index + 1;
    }
  }

  /**
   * Reads the rest of a boundary line: `--` closes the form, otherwise optional
   * transport padding (spaces and tabs) and the line end. The first line sets the
   * line-end style of the delimiter.
   */
  private scanAfterBoundary(): FormScanResult | 'continue' {
    const { data } = this;
    let index = this.position;
    if (index + 2 > data.length) {
      return NEED_MORE;
    }
    if (data[index] === DASH && data[index + 1] === DASH) {
      return { kind: 'anonymous', reason: 'form-ended' };
    }
    while (index < data.length && (data[index] === SPACE || data[index] === TAB)) {
      index += 1;
    }
    if (index >= data.length || (data[index] === CR && index + 1 >= data.length)) {
      return NEED_MORE;
    }
    let lineEnd: 'crlf' | 'lf';
    if (data[index] === CR && data[index + 1] === LF) {
      lineEnd = 'crlf';
      index += 2;
    } else if (data[index] === LF) {
      lineEnd = 'lf';
      index += 1;
    } else {
      return { kind: 'error', error: malformedForm('a boundary line has text after the boundary') };
    }
    this.delimiter ??= Buffer.concat([Buffer.from(lineEnd === 'crlf' ? '\r\n' : '\n'), this.dashBoundary]);
    this.position = index;
    this.partField = undefined;
    this.partIsFile = false;
    this.phase = 'part-headers';
    return 'continue';
  }

  /** Reads part header lines up to the empty line and classifies the part. */
  private scanPartHeaders(): FormScanResult | 'continue' {
    for (;;) {
      const newline = this.data.indexOf(LF, this.position);
      if (newline === -1) {
        return NEED_MORE;
      }
      const lineEnd = newline > this.position && this.data[newline - 1] === CR ? newline - 1 : newline;
      const line = this.data.toString('latin1', this.position, lineEnd);
      this.position = newline + 1;
      if (line === '') {
        break;
      }
      const disposition = parseContentDisposition(line);
      if (disposition !== undefined) {
        this.partField = disposition.name?.toLowerCase();
        this.partIsFile = disposition.hasFilename;
      }
    }

    if (this.partIsFile || this.partField === FILE_FIELD) {
      return { kind: 'anonymous', reason: 'file-first' };
    }
    this.partBodyStart = this.position;
    this.phase = 'part-body';
    return 'continue';
  }

  /** Finds the delimiter that ends the part body; reads the value of a credential field. */
  private scanPartBody(): FormScanResult | 'continue' {
    const delimiter = this.delimiter as Buffer;
    let from = this.position;
    for (;;) {
      const index = this.data.indexOf(delimiter, from);
      if (index === -1) {
        this.position = Math.max(this.partBodyStart, this.data.length - delimiter.length);
        return NEED_MORE;
      }
      const next = this.data[index + delimiter.length];
      if (next === undefined) {
        this.position = index;
        return NEED_MORE;
      }
      // As in Go's mime/multipart: the boundary text followed by other characters is content.
      if (next !== DASH && next !== SPACE && next !== TAB && next !== CR && next !== LF) {
        from = index + 1;
        continue;
      }
      const value = this.data.toString('utf8', this.partBodyStart, index);
      const found = credentialFromField(this.partField, value);
      if (found !== undefined) {
        return found;
      }
      this.position = index + delimiter.length;
      this.phase = 'after-boundary';
      return 'continue';
    }
  }
}

/** Returns the access key decision for a credential field, or undefined for any other field. */
function credentialFromField(field: string | undefined, value: string): FormScanResult | undefined {
  if (field === V4_CREDENTIAL_FIELD) {
    try {
      return { kind: 'found', mechanism: 'v4-form', accessKey: parseSigV4Scope(value).accessKey };
    } catch (error) {
      if (error instanceof CredentialParseError) {
        return { kind: 'error', error: invalidArgument(`The x-amz-credential form field is invalid: ${error.message}.`) };
      }
      throw error;
    }
  }
  if (field === V2_ACCESS_KEY_FIELD) {
    if (value === '') {
      return { kind: 'error', error: invalidArgument('The AWSAccessKeyId form field is empty.') };
    }
    return { kind: 'found', mechanism: 'v2-form', accessKey: value };
  }
  return undefined;
}

/**
 * Parses a `Content-Disposition: form-data; name="…"; filename="…"` header line, or
 * returns undefined for another header. `filename*` (RFC 5987) marks a file too.
 */
function parseContentDisposition(line: string): { name: string | undefined; hasFilename: boolean } | undefined {
  const colon = line.indexOf(':');
  if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') {
    return undefined;
  }
  const value = line.slice(colon + 1);
  const semicolon = value.indexOf(';');
  const parameters = semicolon === -1 ? new Map<string, string>() : parseParameters(value.slice(semicolon + 1));
  return { name: parameters.get('name'), hasFilename: parameters.has('filename') || parameters.has('filename*') };
}

/**
 * Parses `; name=value; name="quoted \" value"` parameters (RFC 9110 section 5.6.6).
 * Names are lower-cased; the first occurrence of a name wins.
 */
function parseParameters(text: string): Map<string, string> {
  const parameters = new Map<string, string>();
  let index = 0;
  while (index < text.length) {
    while (index < text.length && (text[index] === ';' || text[index] === ' ' || text[index] === '\t')) {
      index += 1;
    }
    const equals = text.indexOf('=', index);
    if (equals === -1) {
      break;
    }
    const name = text.slice(index, equals).trim().toLowerCase();
    let value: string;
    index = equals + 1;
    if (text[index] === '"') {
      const quoted = readQuotedString(text, index + 1);
      value = quoted.value;
      index = quoted.end;
    } else {
      const end = text.indexOf(';', index);
      value = text.slice(index, end === -1 ? text.length : end).trim();
      index = end === -1 ? text.length : end;
    }
    if (name !== '' && !parameters.has(name)) {
      parameters.set(name, value);
    }
  }
  return parameters;
}

/** Reads a quoted string body starting after its opening quote; `\x` stands for x. */
function readQuotedString(text: string, start: number): { value: string; end: number } {
  let value = '';
  let index = start;
  while (index < text.length && text[index] !== '"') {
    if (text[index] === '\\' && index + 1 < text.length) {
      index += 1;
    }
    value += text[index];
    index += 1;
  }
  return { value, end: index + 1 };
}

function invalidArgument(message: string): S3ErrorBody {
  return { status: 400, code: 'InvalidArgument', message };
}

function malformedForm(reason: string): S3ErrorBody {
  return {
    status: 400,
    code: 'MalformedPOSTRequest',
    message: `The body of your POST request is not well-formed multipart/form-data: ${reason}.`,
  };
}

function prefixTooLarge(maxPrefixBytes: number): S3ErrorBody {
  return {
    status: 400,
    code: 'MaxPostPreDataLengthExceeded',
    message: `Your POST request fields preceding the upload file were too large: the proxy reads at most ${maxPrefixBytes} bytes to find x-amz-credential or AWSAccessKeyId; put that field first.`,
    extra: { MaxPostPreDataLengthBytes: String(maxPrefixBytes) },
  };
}
