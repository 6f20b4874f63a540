import { describe, expect, it } from 'vitest';
import { FormCredentialScanner, parseFormBoundary, type FormScanResult } from '../../src/proxy/form-credential-scanner.js';

const BOUNDARY = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
const CREDENTIAL = 'AKIAFORM/20240102/us-east-1/s3/aws4_request';

/** Builds a form body; each part is [headers, value] and `lineEnd` is used everywhere. */
function form(parts: Array<[string, string]>, options: { lineEnd?: string; boundary?: string; preamble?: string; close?: boolean } = {}): Buffer {
  const nl = options.lineEnd ?? '\r\n';
  const boundary = options.boundary ?? BOUNDARY;
  let text = options.preamble ?? '';
  for (const [headers, value] of parts) {
    text += `--${boundary}${nl}${headers.split('\n').join(nl)}${nl}${nl}${value}${nl}`;
  }
  if (options.close !== false) {
    text += `--${boundary}--${nl}`;
  }
  return Buffer.from(text, 'latin1');
}

const field = (name: string, value: string): [string, string] => [`Content-Disposition: form-data; name="${name}"`, value];
const filePart: [string, string] = ['Content-Disposition: form-data; name="file"; filename="a.txt"\nContent-Type: text/plain', 'file bytes'];

function scanChunks(chunks: Buffer[], boundary = BOUNDARY, maxPrefixBytes?: number): FormScanResult {
  const scanner = new FormCredentialScanner(boundary, maxPrefixBytes);
  for (const chunk of chunks) {
    const result = scanner.push(chunk);
    if (result.kind !== 'need-more') {
      return result;
    }
  }
  return scanner.end();
}

/** Splits `body` into byte-sized chunks. */
function bytewise(body: Buffer): Buffer[] {
  return Array.from({ length: body.length }, (_, index) => body.subarray(index, index + 1));
}

const found = (accessKey: string, mechanism: 'v4-form' | 'v2-form' = 'v4-form'): FormScanResult => ({ kind: 'found', mechanism, accessKey });

interface ScanCase {
  name: string;
  body: Buffer;
  boundary?: string;
  expected: FormScanResult | { kind: 'error'; code: string };
}

const cases: ScanCase[] = [
  { name: 'SigV4 credential first', body: form([field('x-amz-credential', CREDENTIAL), filePart]), expected: found('AKIAFORM') },
  { name: 'SigV2 access key', body: form([field('AWSAccessKeyId', 'AKIAV2'), field('signature', 'c2ln'), filePart]), expected: found('AKIAV2', 'v2-form') },
  {
    name: 'credential after other fields',
    body: form([field('key', 'uploads/${filename}'), field('policy', 'eyJleHBpcmF0aW9uIjoi'), field('X-Amz-Algorithm', 'AWS4-HMAC-SHA256'), field('X-Amz-Credential', CREDENTIAL), filePart]),
    expected: found('AKIAFORM'),
  },
  { name: 'field name in upper case', body: form([field('X-AMZ-CREDENTIAL', CREDENTIAL)]), expected: found('AKIAFORM') },
  { name: 'field name in mixed case', body: form([field('x-Amz-cReDeNtIaL', CREDENTIAL)]), expected: found('AKIAFORM') },
  { name: 'SigV2 name in lower case', body: form([field('awsaccesskeyid', 'AKIALOWER')]), expected: found('AKIALOWER', 'v2-form') },
  { name: 'bare LF line ends', body: form([field('key', 'k'), field('x-amz-credential', CREDENTIAL), filePart], { lineEnd: '\n' }), expected: found('AKIAFORM') },
  {
    name: 'preamble before the first boundary',
    body: form([field('x-amz-credential', CREDENTIAL)], { preamble: 'This is a preamble.\r\n--not-it\r\n' }),
    expected: found('AKIAFORM'),
  },
  {
    name: 'transport padding after boundaries',
    body: Buffer.from(`--${BOUNDARY} \t\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${BOUNDARY}  \r\nContent-Disposition: form-data; name="x-amz-credential"\r\n\r\n${CREDENTIAL}\r\n--${BOUNDARY}--\r\n`),
    expected: found('AKIAFORM'),
  },
  {
    name: 'boundary text followed by other characters in a value',
    body: form([field('policy', `abc\r\n--${BOUNDARY}X and more`), field('x-amz-credential', CREDENTIAL)]),
    expected: found('AKIAFORM'),
  },
  { name: 'access key containing a slash', body: form([field('x-amz-credential', 'team/AKIA/20240102/us-east-1/s3/aws4_request')]), expected: found('team/AKIA') },
  { name: 'unquoted name parameter', body: form([['Content-Disposition: form-data; name=x-amz-credential', CREDENTIAL]]), expected: found('AKIAFORM') },
  {
    name: 'header names in odd case and extra headers',
    body: form([['content-type: text/plain\nCONTENT-DISPOSITION: form-data; NAME="x-amz-credential"', CREDENTIAL]]),
    expected: found('AKIAFORM'),
  },
  { name: 'quoted boundary characters', boundary: "a'()+_,-./:=?b", body: form([field('x-amz-credential', CREDENTIAL)], { boundary: "a'()+_,-./:=?b" }), expected: found('AKIAFORM') },
  { name: 'credential after the file part', body: form([field('key', 'k'), filePart, field('x-amz-credential', CREDENTIAL)]), expected: { kind: 'anonymous', reason: 'file-first' } },
  {
    name: 'file field without filename',
    body: form([['Content-Disposition: form-data; name="File"', 'data'], field('x-amz-credential', CREDENTIAL)]),
    expected: { kind: 'anonymous', reason: 'file-first' },
  },
  {
    name: 'filename* parameter',
    body: form([["Content-Disposition: form-data; name=\"upload\"; filename*=UTF-8''a.txt", 'data'], field('x-amz-credential', CREDENTIAL)]),
    expected: { kind: 'anonymous', reason: 'file-first' },
  },
  {
    name: 'escaped quote in a field name',
    body: form([['Content-Disposition: form-data; name="x-amz-credential\\"x"', 'v'], field('x-amz-credential', CREDENTIAL)]),
    expected: found('AKIAFORM'),
  },
  { name: 'form with no credential', body: form([field('key', 'k'), field('acl', 'public-read')]), expected: { kind: 'anonymous', reason: 'form-ended' } },
  { name: 'empty form', body: Buffer.from(`--${BOUNDARY}--\r\n`), expected: { kind: 'anonymous', reason: 'form-ended' } },
  { name: 'empty SigV2 access key', body: form([field('AWSAccessKeyId', '')]), expected: { kind: 'error', code: 'InvalidArgument' } },
  { name: 'malformed SigV4 credential', body: form([field('x-amz-credential', 'AKIA/2024/us-east-1/s3')]), expected: { kind: 'error', code: 'InvalidArgument' } },
  { name: 'empty SigV4 credential', body: form([field('x-amz-credential', '')]), expected: { kind: 'error', code: 'InvalidArgument' } },
  { name: 'text after a boundary', body: Buffer.from(`--${BOUNDARY}junk\r\n\r\n`), expected: { kind: 'error', code: 'MalformedPOSTRequest' } },
  { name: 'body ending inside the fields', body: form([field('key', 'k')], { close: false }).subarray(0, 60), expected: { kind: 'error', code: 'MalformedPOSTRequest' } },
  { name: 'no boundary at all', body: Buffer.from('key=value&x-amz-credential=AKIA'), expected: { kind: 'error', code: 'MalformedPOSTRequest' } },
  {
    name: 'fields larger than the bound',
    body: form([field('policy', 'p'.repeat(70 * 1024)), field('x-amz-credential', CREDENTIAL)]),
    expected: { kind: 'error', code: 'MaxPostPreDataLengthExceeded' },
  },
];

function normalize(result: FormScanResult): FormScanResult | { kind: 'error'; code: string } {
  return result.kind === 'error' ? { kind: 'error', code: result.error.code } : result;
}

describe('FormCredentialScanner', () => {
  it.each(cases)('scans $name in one chunk', ({ body, boundary, expected }) => {
    expect(normalize(scanChunks([body], boundary))).toEqual(expected);
  });

  it.each(cases)('scans $name split at every byte', ({ body, boundary, expected }) => {
    // Large bodies are split at every byte of their first and last 300 bytes only, to keep the run short.
    const splits = body.length <= 2048 ? Array.from({ length: body.length - 1 }, (_, i) => i + 1) : [...Array(300).keys()].map((i) => i + 1).concat([...Array(300).keys()].map((i) => body.length - 1 - i));
    for (const split of splits) {
      const result = normalize(scanChunks([body.subarray(0, split), body.subarray(split)], boundary));
      expect(result, `split at byte ${split}`).toEqual(expected);
    }
  });

  it.each(cases.filter((c) => c.body.length <= 2048))('scans $name one byte at a time', ({ body, boundary, expected }) => {
    expect(normalize(scanChunks(bytewise(body), boundary))).toEqual(expected);
  });

  it('decides before the file bytes arrive', () => {
    const scanner = new FormCredentialScanner(BOUNDARY);
    const prefix = form([field('x-amz-credential', CREDENTIAL)], { close: false });
    const head = Buffer.concat([prefix, Buffer.from(`--${BOUNDARY}\r\n`)]);

    expect(scanner.push(head)).toEqual(found('AKIAFORM'));
  });

  it('waits for the byte after a delimiter', () => {
    const scanner = new FormCredentialScanner(BOUNDARY);
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="x-amz-credential"\r\n\r\n${CREDENTIAL}\r\n--${BOUNDARY}`);

    expect(scanner.push(head).kind).toBe('need-more');
    expect(scanner.push(Buffer.from('\r\n'))).toEqual(found('AKIAFORM'));
  });

  it('applies the bound to the bytes held', () => {
    const body = form([field('policy', 'p'.repeat(200)), field('x-amz-credential', CREDENTIAL)]);

    expect(normalize(scanChunks([body], BOUNDARY, 256))).toEqual({ kind: 'error', code: 'MaxPostPreDataLengthExceeded' });
    expect(normalize(scanChunks([body], BOUNDARY, 1024))).toEqual(found('AKIAFORM'));
  });

  it('finds a credential within the bound of a large chunk', () => {
    const head = form([field('x-amz-credential', CREDENTIAL)], { close: false });
    const fileHeader = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n\r\n`);
    const body = Buffer.concat([head, fileHeader, Buffer.alloc(1024 * 1024, 'f')]);

    expect(scanChunks([body])).toEqual(found('AKIAFORM'));
  });

  it('keeps its decision for later chunks', () => {
    const scanner = new FormCredentialScanner(BOUNDARY);
    scanner.push(form([field('x-amz-credential', CREDENTIAL)]));

    expect(scanner.push(Buffer.from('more'))).toEqual(found('AKIAFORM'));
    expect(scanner.end()).toEqual(found('AKIAFORM'));
  });
});

describe('parseFormBoundary', () => {
  const cases: Array<[string, string | undefined]> = [
    [`multipart/form-data; boundary=${BOUNDARY}`, BOUNDARY],
    ['multipart/form-data; boundary="quoted boundary"', 'quoted boundary'],
    ['Multipart/Form-Data;boundary=abc', 'abc'],
    ['multipart/form-data; charset=utf-8; BOUNDARY="a;b"', 'a;b'],
    ['multipart/form-data; boundary="a\\"b"', 'a"b'],
    ['multipart/form-data; boundary=abc ; charset=utf-8', 'abc'],
    ['multipart/form-data', ''],
    ['multipart/form-data; boundary=', ''],
    [`multipart/form-data; boundary=${'b'.repeat(71)}`, ''],
    ['application/x-www-form-urlencoded', undefined],
    ['multipart/mixed; boundary=abc', undefined],
    ['text/plain', undefined],
  ];

  it.each(cases)('parses %j', (contentType, expected) => {
    expect(parseFormBoundary(contentType)).toBe(expected);
  });
});
