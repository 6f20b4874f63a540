import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from './helpers.js';
import {
  encodeKeyPath,
  errorCode,
  flipFirstChar,
  presignV2,
  presignV4,
  send,
  sha256Hex,
  signingKey,
  signStreaming,
  signV2Header,
  signV4,
  type WireResponse,
} from './wire.js';

const BUCKET = 'tamper';

let server: DevServerHandle;
let keyCounter = 0;

function freshKey(label: string): string {
  keyCounter += 1;
  return `${label} ${keyCounter}/ü+%.txt`;
}

beforeAll(async () => {
  server = await startDevServer();
  const create = await send(server.port, await signV4(server, { method: 'PUT', port: server.port, path: `/${BUCKET}` }));
  expect(create.status).toBe(200);
  const seed = await send(server.port, await signV4(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, 'seed.txt'), body: 'seed' }));
  expect(seed.status).toBe(200);
});

afterAll(async () => {
  await server?.stop();
});

async function getObjectStatus(key: string): Promise<number> {
  return (await send(server.port, await signV4(server, { method: 'GET', port: server.port, path: encodeKeyPath(BUCKET, key) }))).status;
}

function withSignature(authorization: string, change: (signature: string) => string): string {
  return authorization.replace(/Signature=([0-9a-f]+)/, (_match, signature: string) => `Signature=${change(signature)}`);
}

function putV4(key: string, body: string, extra: Partial<Parameters<typeof signV4>[1]> = {}) {
  return signV4(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, key), body, ...extra });
}

interface TamperCase {
  name: string;
  /** Sends the untampered request. */
  good: () => Promise<WireResponse>;
  goodStatus: number;
  /** Sends the same request with one thing changed. */
  bad: () => Promise<WireResponse>;
  status: number;
  code: string;
  /** A key that the rejected request must not have written. */
  notWritten?: string;
}

const FIFTEEN_MINUTES_MS = 15 * 60_000;

const cases: TamperCase[] = [
  {
    name: 'SigV4 header signed with a wrong secret',
    good: async () => send(server.port, await putV4(freshKey('secret'), 'x')),
    goodStatus: 200,
    bad: async () => send(server.port, await signV4({ ...server, secretKey: 'wrong-secret-key' }, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, 'never-a'), body: 'x' })),
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-a',
  },
  {
    name: 'SigV4 header with a flipped signature character',
    good: async () => send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` })),
    goodStatus: 200,
    bad: async () => {
      const wire = await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` });
      wire.headers.authorization = withSignature(wire.headers.authorization!, flipFirstChar);
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'SigV4 header with an unknown access key',
    good: async () => send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` })),
    goodStatus: 200,
    bad: async () => send(server.port, await signV4({ ...server, accessKey: 'NOSUCHKEY' }, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` })),
    status: 403,
    code: 'InvalidAccessKeyId',
  },
  {
    name: 'SigV4 header with a changed Host',
    good: async () => send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` })),
    goodStatus: 200,
    bad: async () => {
      const wire = await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` });
      wire.headers.host = `localhost:${server.port}`;
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'SigV4 header with a changed path',
    good: async () => send(server.port, await putV4(freshKey('path'), 'x')),
    goodStatus: 200,
    bad: async () => {
      const wire = await putV4('signed-key', 'x');
      wire.path = encodeKeyPath(BUCKET, 'never-b');
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-b',
  },
  {
    name: 'SigV4 header with a double-encoded path',
    good: async () => send(server.port, await putV4(freshKey('space key'), 'x')),
    goodStatus: 200,
    bad: async () => {
      const wire = await putV4('never c', 'x');
      wire.path = wire.path.replace('%20', '%2520');
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never c',
  },
  {
    name: 'SigV4 header with a dropped signed header',
    good: async () => send(server.port, await putV4(freshKey('meta'), 'x', { headers: { 'x-amz-meta-owner': 'alice' } })),
    goodStatus: 200,
    bad: async () => {
      const wire = await putV4('never-d', 'x', { headers: { 'x-amz-meta-owner': 'alice' } });
      delete wire.headers['x-amz-meta-owner'];
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-d',
  },
  {
    name: 'SigV4 header with a body not matching x-amz-content-sha256',
    good: async () => send(server.port, await putV4(freshKey('body'), 'the signed body')),
    goodStatus: 200,
    bad: async () => {
      const wire = await putV4('never-e', 'the signed body');
      wire.body = 'the swapped body';
      return send(server.port, wire);
    },
    status: 400,
    code: 'XAmzContentSHA256Mismatch',
    notWritten: 'never-e',
  },
  {
    name: 'SigV4 header dated 20 minutes ago',
    good: async () => send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, signingDate: new Date(Date.now() - 60_000) })),
    goodStatus: 200,
    bad: async () =>
      send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, signingDate: new Date(Date.now() - FIFTEEN_MINUTES_MS - 5 * 60_000) })),
    status: 403,
    code: 'RequestTimeTooSkewed',
  },
  {
    name: 'aws-chunked upload with a flipped chunk signature',
    good: async () => send(server.port, await signStreaming(server, { port: server.port, path: encodeKeyPath(BUCKET, freshKey('chunked')), chunks: ['first chunk ', 'second'] })),
    goodStatus: 200,
    bad: async () => send(server.port, await signStreaming(server, { port: server.port, path: encodeKeyPath(BUCKET, 'never-f'), chunks: ['first chunk ', 'second'], tamperChunk: 1 })),
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-f',
  },
  {
    name: 'aws-chunked upload with a wrong CRC32 trailer',
    good: async () => send(server.port, await unsignedTrailerPut(freshKey('trailer'), 'trailer body', false)),
    goodStatus: 200,
    bad: async () => send(server.port, await unsignedTrailerPut('never-n', 'trailer body', true)),
    status: 400,
    code: 'BadDigest',
    notWritten: 'never-n',
  },
  {
    name: 'presigned SigV4 URL past its expiry',
    good: async () => send(server.port, await presignV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expiresInSeconds: 60 })),
    goodStatus: 200,
    bad: async () =>
      send(server.port, await presignV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expiresInSeconds: 60, signingDate: new Date(Date.now() - 120_000) })),
    status: 403,
    code: 'AccessDenied',
  },
  {
    name: 'presigned SigV4 URL with a flipped signature character',
    good: async () => send(server.port, await presignV4(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, freshKey('presigned')), expiresInSeconds: 60, body: 'p' })),
    goodStatus: 200,
    bad: async () => {
      const wire = await presignV4(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, 'never-g'), expiresInSeconds: 60, body: 'p' });
      wire.query = wire.query.replace(/X-Amz-Signature=([0-9a-f]+)/, (_m, signature: string) => `X-Amz-Signature=${flipFirstChar(signature)}`);
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-g',
  },
  {
    name: 'presigned SigV4 URL used on another key',
    good: async () => send(server.port, await presignV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expiresInSeconds: 60 })),
    goodStatus: 200,
    bad: async () => {
      const wire = await presignV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expiresInSeconds: 60 });
      wire.path = `/${BUCKET}/seed.txt2`;
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'SigV2 header with a wrong secret',
    good: async () => send(server.port, signV2Header(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, freshKey('v2')), headers: { 'x-amz-meta-a': '1', 'content-type': 'text/plain' }, body: 'v2' })),
    goodStatus: 200,
    bad: async () => send(server.port, signV2Header({ ...server, secretKey: 'wrong-secret-key' }, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, 'never-h'), body: 'v2' })),
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-h',
  },
  {
    name: 'SigV2 header with a changed x-amz-meta header',
    good: async () => send(server.port, signV2Header(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, freshKey('v2meta')), headers: { 'x-amz-meta-a': '1' }, body: 'v2' })),
    goodStatus: 200,
    bad: async () => {
      const wire = signV2Header(server, { method: 'PUT', port: server.port, path: encodeKeyPath(BUCKET, 'never-i'), headers: { 'x-amz-meta-a': '1' }, body: 'v2' });
      wire.headers['x-amz-meta-a'] = '2';
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'never-i',
  },
  {
    name: 'SigV2 header on ?uploads with a dropped sub-resource',
    good: async () => send(server.port, signV2Header(server, { method: 'GET', port: server.port, path: `/${BUCKET}`, query: { uploads: '' } })),
    goodStatus: 200,
    bad: async () => {
      const wire = signV2Header(server, { method: 'GET', port: server.port, path: `/${BUCKET}`, query: { uploads: '' } });
      wire.query = 'uploads&versionId=1';
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'SigV2 header dated 20 minutes ago',
    good: async () => send(server.port, signV2Header(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt` })),
    goodStatus: 200,
    bad: async () => send(server.port, signV2Header(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, date: new Date(Date.now() - 20 * 60_000) })),
    status: 403,
    code: 'RequestTimeTooSkewed',
  },
  {
    name: 'presigned SigV2 URL with a response-content-type override changed',
    good: async () =>
      send(server.port, presignV2(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, query: { 'response-content-type': 'text/csv' }, expires: nowSeconds() + 60 })),
    goodStatus: 200,
    bad: async () => {
      const wire = presignV2(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, query: { 'response-content-type': 'text/csv' }, expires: nowSeconds() + 60 });
      wire.query = wire.query.replace('text%2Fcsv', 'text%2Fhtml');
      return send(server.port, wire);
    },
    status: 403,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'presigned SigV2 URL past its expiry',
    good: async () => send(server.port, presignV2(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expires: nowSeconds() + 60 })),
    goodStatus: 200,
    bad: async () => send(server.port, presignV2(server, { method: 'GET', port: server.port, path: `/${BUCKET}/seed.txt`, expires: nowSeconds() - 1 })),
    status: 403,
    code: 'AccessDenied',
  },
  {
    name: 'POST policy past its expiration',
    good: async () => postForm({ key: `allowed/${freshKey('post')}` }),
    goodStatus: 204,
    bad: async () => postForm({ key: 'allowed/never-j', expiration: new Date(Date.now() - 1000) }),
    status: 403,
    code: 'AccessDenied',
    notWritten: 'allowed/never-j',
  },
  {
    name: 'POST policy with a key outside its starts-with',
    good: async () => postForm({ key: `allowed/${freshKey('post')}` }),
    goodStatus: 204,
    bad: async () => postForm({ key: 'elsewhere/never-k' }),
    status: 403,
    code: 'AccessDenied',
    notWritten: 'elsewhere/never-k',
  },
  {
    name: 'POST policy with a body over content-length-range',
    good: async () => postForm({ key: `allowed/${freshKey('post')}`, body: 'x'.repeat(100) }),
    goodStatus: 204,
    bad: async () => postForm({ key: 'allowed/never-l', body: 'x'.repeat(101) }),
    status: 400,
    code: 'EntityTooLarge',
    notWritten: 'allowed/never-l',
  },
  {
    name: 'POST policy with a wrong signature',
    good: async () => postForm({ key: `allowed/${freshKey('post')}` }),
    goodStatus: 204,
    bad: async () => postForm({ key: 'allowed/never-m', tamperSignature: true }),
    status: 403,
    code: 'SignatureDoesNotMatch',
    notWritten: 'allowed/never-m',
  },
];

/** Builds a STREAMING-UNSIGNED-PAYLOAD-TRAILER upload, the framing the AWS SDK uses for stream bodies. */
async function unsignedTrailerPut(key: string, body: string, wrongChecksum: boolean) {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.from(body)) ^ (wrongChecksum ? 1 : 0));
  const wire = await putV4(key, '', {
    payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    headers: {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(Buffer.byteLength(body)),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    },
  });
  wire.body = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\nx-amz-checksum-crc32:${crc.toString('base64')}\r\n\r\n`;
  return wire;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Sends a browser-style POST upload with a SigV4-signed policy built as the S3 docs describe. */
async function postForm(options: { key: string; expiration?: Date; body?: string; tamperSignature?: boolean }): Promise<WireResponse> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const credential = `${server.accessKey}/${date}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: (options.expiration ?? new Date(Date.now() + 300_000)).toISOString(),
      conditions: [
        { bucket: BUCKET },
        ['starts-with', '$key', 'allowed/'],
        ['content-length-range', 1, 100],
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': amzDate },
      ],
    }),
  ).toString('base64');
  let signature = createHmac('sha256', signingKey(server.secretKey, date)).update(policy).digest('hex');
  if (options.tamperSignature === true) {
    signature = flipFirstChar(signature);
  }

  const form = new FormData();
  form.append('key', options.key);
  form.append('policy', policy);
  form.append('x-amz-algorithm', 'AWS4-HMAC-SHA256');
  form.append('x-amz-credential', credential);
  form.append('x-amz-date', amzDate);
  form.append('x-amz-signature', signature);
  form.append('file', new Blob([options.body ?? 'form upload']), 'upload.txt');
  const response = await fetch(`${server.url}/${BUCKET}`, { method: 'POST', body: form });
  return { status: response.status, headers: {}, body: await response.text() };
}

describe('tampered requests', () => {
  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const good = await testCase.good();
      expect(good.status, good.body).toBe(testCase.goodStatus);

      const bad = await testCase.bad();
      expect(bad.status, bad.body).toBe(testCase.status);
      expect(errorCode(bad)).toBe(testCase.code);
      if (testCase.notWritten !== undefined) {
        expect(await getObjectStatus(testCase.notWritten)).toBe(404);
      }
    });
  }

  it('stores the decoded bytes of an aws-chunked upload', async () => {
    const key = freshKey('decoded');
    const put = await send(server.port, await signStreaming(server, { port: server.port, path: encodeKeyPath(BUCKET, key), chunks: ['abc', 'defg', 'h'] }));
    expect(put.status).toBe(200);
    const get = await send(server.port, await signV4(server, { method: 'GET', port: server.port, path: encodeKeyPath(BUCKET, key) }));
    expect(get.body).toBe('abcdefgh');
    expect(get.headers['content-encoding']).toBeUndefined();
  });

  it('rejects an unsigned request without a bucket policy', async () => {
    const response = await send(server.port, { method: 'GET', path: `/${BUCKET}/seed.txt`, query: '', headers: { host: `127.0.0.1:${server.port}` } });
    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
  });

  it('keeps the key of a path with a double slash', async () => {
    const put = await send(server.port, await signV4(server, { method: 'PUT', port: server.port, path: `/${BUCKET}//double`, body: 'slash' }));
    expect(put.status).toBe(200);
    const list = await send(server.port, await signV4(server, { method: 'GET', port: server.port, path: `/${BUCKET}`, query: { 'list-type': '2', prefix: '/' } }));
    expect(list.body).toContain('<Key>/double</Key>');
    expect(sha256Hex(list.body)).not.toBe('');
  });
});
