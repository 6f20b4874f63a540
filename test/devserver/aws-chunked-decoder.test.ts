import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, ChunkedBodyError, type AwsChunkedOptions } from '../../src/devserver/aws-chunked-decoder.js';

const SIGNING_KEY = Buffer.from('test-signing-key');
const SEED = 'seed-signature';

/** A stand-in for the SigV4 chunk signature: any keyed function of (previous, hash) works for the decoder. */
function sign(previous: string, dataHash: string): string {
  return createHmac('sha256', SIGNING_KEY).update(`${previous}\n${dataHash}`).digest('hex');
}

const signedOptions: AwsChunkedOptions = { seedSignature: SEED, expectedChunkSignature: sign };

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function signedBody(chunks: string[], tamper?: (signatures: string[]) => void): Buffer {
  const signatures: string[] = [];
  let previous = SEED;
  for (const chunk of [...chunks, '']) {
    previous = sign(previous, sha256Hex(Buffer.from(chunk)));
    signatures.push(previous);
  }
  tamper?.(signatures);
  const parts = [...chunks, ''].map(
    (chunk, index) => `${Buffer.byteLength(chunk).toString(16)};chunk-signature=${signatures[index]}\r\n${chunk}\r\n`,
  );
  return Buffer.from(parts.join(''));
}

function unsignedBody(chunks: string[], trailers: string): Buffer {
  const parts = chunks.map((chunk) => `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
  return Buffer.from(`${parts.join('')}0\r\n${trailers}\r\n`);
}

async function decode(
  body: Buffer,
  options: AwsChunkedOptions,
  split: number[] = [],
): Promise<{ data: string; decoder: AwsChunkedDecoder }> {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const at of [...split, body.length]) {
    pieces.push(body.subarray(start, at));
    start = at;
  }
  const decoder = new AwsChunkedDecoder(options);
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces), decoder, sink);
  return { data: Buffer.concat(received).toString(), decoder };
}

async function decodeError(body: Buffer, options: AwsChunkedOptions): Promise<ChunkedBodyError> {
  try {
    await decode(body, options);
  } catch (error) {
    return error as ChunkedBodyError;
  }
  throw new Error('expected decoding to fail');
}

describe('AwsChunkedDecoder', () => {
  it('decodes signed chunks split at every byte boundary', async () => {
    const body = signedBody(['hello ', 'chunked ', 'world']);
    for (let at = 0; at <= body.length; at += 1) {
      const { data } = await decode(body, signedOptions, [at]);
      expect(data, `split at byte ${at}`).toBe('hello chunked world');
    }
  });

  it('decodes when every byte arrives alone', async () => {
    const body = signedBody(['a', 'bc', 'def']);
    const everyByte = Array.from({ length: body.length - 1 }, (_, index) => index + 1);
    const { data } = await decode(body, signedOptions, everyByte);
    expect(data).toBe('abcdef');
  });

  it('collects trailers of unsigned bodies at every split', async () => {
    const body = unsignedBody(['first', 'second'], 'x-amz-checksum-crc32:AAAAAA==\r\n');
    for (let at = 0; at <= body.length; at += 1) {
      const { data, decoder } = await decode(body, {}, [at]);
      expect(data, `split at byte ${at}`).toBe('firstsecond');
      expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('AAAAAA==');
      expect(decoder.decodedBytes).toBe(11);
    }
  });

  it('accepts a body ending right after the zero chunk', async () => {
    const { data } = await decode(Buffer.from('3\r\nabc\r\n0\r\n'), {});
    expect(data).toBe('abc');
  });

  const rejected: Array<{ name: string; body: Buffer; options: AwsChunkedOptions; code: string }> = [
    {
      name: 'a flipped chunk signature',
      body: signedBody(['hello', 'world'], (signatures) => {
        signatures[1] = signatures[1]!.replace(/^./, (char) => (char === 'a' ? 'b' : 'a'));
      }),
      options: signedOptions,
      code: 'SignatureDoesNotMatch',
    },
    {
      name: 'a wrong final chunk signature',
      body: signedBody(['hello'], (signatures) => {
        signatures[1] = '0'.repeat(64);
      }),
      options: signedOptions,
      code: 'SignatureDoesNotMatch',
    },
    {
      name: 'changed chunk data',
      body: Buffer.from(signedBody(['hello']).toString().replace('hello', 'jello')),
      options: signedOptions,
      code: 'SignatureDoesNotMatch',
    },
    {
      name: 'a missing chunk signature on a signed body',
      body: Buffer.from('5\r\nhello\r\n0\r\n\r\n'),
      options: signedOptions,
      code: 'IncompleteBody',
    },
    {
      name: 'a chunk signature on an unsigned body',
      body: signedBody(['hello']),
      options: {},
      code: 'IncompleteBody',
    },
    { name: 'a size that is not hex', body: Buffer.from('zz\r\nhello\r\n0\r\n\r\n'), options: {}, code: 'IncompleteBody' },
    { name: 'a size larger than the data', body: Buffer.from('9\r\nhello\r\n0\r\n\r\n'), options: {}, code: 'IncompleteBody' },
    { name: 'a size smaller than the data', body: Buffer.from('3\r\nhello\r\n0\r\n\r\n'), options: {}, code: 'IncompleteBody' },
    { name: 'a body cut inside a chunk', body: Buffer.from('5\r\nhel'), options: {}, code: 'IncompleteBody' },
    { name: 'a body without the zero chunk', body: Buffer.from('5\r\nhello\r\n'), options: {}, code: 'IncompleteBody' },
    { name: 'bytes after the final chunk', body: Buffer.from('0\r\n\r\nextra'), options: {}, code: 'IncompleteBody' },
    { name: 'a trailer without a colon', body: Buffer.from('0\r\nbroken-trailer\r\n\r\n'), options: {}, code: 'IncompleteBody' },
    { name: 'an endless size line', body: Buffer.from('1'.repeat(5000)), options: {}, code: 'IncompleteBody' },
  ];

  for (const testCase of rejected) {
    it(`rejects ${testCase.name}`, async () => {
      const error = await decodeError(testCase.body, testCase.options);
      expect(error).toBeInstanceOf(ChunkedBodyError);
      expect(error.s3Code).toBe(testCase.code);
    });
  }
});
