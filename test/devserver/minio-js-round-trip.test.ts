import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from './helpers.js';

const TRICKY_KEYS = ['with space.txt', 'a+b.txt', 'ünïcødé/文件.txt', 'odd%2Fname.txt', "q=1&x!'()*~.txt", '/leading-slash'];
const PART_SIZE = 5 * 1024 * 1024;

let server: DevServerHandle;
let client: Minio.Client;

beforeAll(async () => {
  server = await startDevServer();
  client = new Minio.Client({
    endPoint: '127.0.0.1',
    port: server.port,
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: 'us-east-1',
    partSize: PART_SIZE,
  });
});

afterAll(async () => {
  await server?.stop();
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listKeys(bucket: string, prefix: string, recursive: boolean): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, recursive)) {
    names.push((item as { name?: string; prefix?: string }).name ?? (item as { prefix: string }).prefix);
  }
  return names;
}

describe('minio-js against minio-dev-server', () => {
  it('creates, lists and removes buckets', async () => {
    await client.makeBucket('mjs-bucket', 'us-east-1');
    expect(await client.bucketExists('mjs-bucket')).toBe(true);
    expect((await client.listBuckets()).map((bucket) => bucket.name)).toContain('mjs-bucket');
    await client.removeBucket('mjs-bucket');
    expect(await client.bucketExists('mjs-bucket')).toBe(false);
  });

  it('round-trips objects with tricky keys and metadata', async () => {
    await client.makeBucket('mjs-objects', 'us-east-1');
    for (const key of TRICKY_KEYS) {
      const body = Buffer.from(`minio-js ${key}`);
      await client.putObject('mjs-objects', key, body, body.length, {
        'Content-Type': 'text/plain',
        'x-amz-meta-my.key': 'dot',
        'x-amz-meta-my_key': 'underscore',
      });
      expect((await readAll(await client.getObject('mjs-objects', key))).toString()).toBe(body.toString());

      const stat = await client.statObject('mjs-objects', key);
      expect(stat.size).toBe(body.length);
      expect(stat.etag).toBe(createHash('md5').update(body).digest('hex'));
      expect(stat.metaData['content-type']).toBe('text/plain');
      expect(stat.metaData['my.key']).toBe('dot');
      expect(stat.metaData['my_key']).toBe('underscore');
    }

    expect((await listKeys('mjs-objects', '', true)).sort()).toEqual([...TRICKY_KEYS].sort());
    expect(await listKeys('mjs-objects', 'ünïcødé/', false)).toEqual(['ünïcødé/文件.txt']);
    expect((await listKeys('mjs-objects', '', false)).sort()).toEqual(
      ['/', 'a+b.txt', 'odd%2Fname.txt', "q=1&x!'()*~.txt", 'with space.txt', 'ünïcødé/'].sort(),
    );

    const partial = await readAll(await client.getPartialObject('mjs-objects', 'a+b.txt', 2, 4));
    expect(partial.toString()).toBe('nio-');

    await client.removeObject('mjs-objects', 'with space.txt');
    await client.removeObjects('mjs-objects', TRICKY_KEYS.filter((key) => key !== 'with space.txt'));
    expect(await listKeys('mjs-objects', '', true)).toEqual([]);
  });

  it('uploads a stream bigger than its part size as multipart', async () => {
    await client.makeBucket('mjs-multipart', 'us-east-1');
    const body = randomBytes(2 * PART_SIZE + 4321);
    await client.putObject('mjs-multipart', 'big.bin', Readable.from([body.subarray(0, 7_000_000), body.subarray(7_000_000)]));
    const stat = await client.statObject('mjs-multipart', 'big.bin');
    expect(stat.size).toBe(body.length);
    // A multipart ETag ends with -<part count>; minio-js picks the split itself.
    expect(stat.etag).toMatch(/-[2-9]$/);
    expect((await readAll(await client.getObject('mjs-multipart', 'big.bin'))).equals(body)).toBe(true);
  });

  it('copies an object', async () => {
    await client.makeBucket('mjs-copy', 'us-east-1');
    await client.putObject('mjs-copy', 'from here', Buffer.from('copy me'));
    await client.copyObject('mjs-copy', 'to+there', '/mjs-copy/from here');
    expect((await readAll(await client.getObject('mjs-copy', 'to+there'))).toString()).toBe('copy me');
  });

  it('accepts presigned GET, PUT and POST', async () => {
    await client.makeBucket('mjs-presigned', 'us-east-1');
    for (const key of TRICKY_KEYS) {
      const putUrl = await client.presignedPutObject('mjs-presigned', key, 300);
      const put = await fetch(putUrl, { method: 'PUT', body: `presigned ${key}` });
      expect(put.status).toBe(200);
      const getUrl = await client.presignedGetObject('mjs-presigned', key, 300);
      const get = await fetch(getUrl);
      expect(get.status).toBe(200);
      expect(await get.text()).toBe(`presigned ${key}`);
    }

    const policy = client.newPostPolicy();
    policy.setBucket('mjs-presigned');
    policy.setKey('posted/file.txt');
    policy.setExpires(new Date(Date.now() + 300_000));
    policy.setContentType('text/plain');
    policy.setContentLengthRange(1, 1024);
    const { postURL, formData } = await client.presignedPostPolicy(policy);
    const form = new FormData();
    for (const [name, value] of Object.entries(formData)) form.append(name, value);
    form.append('file', new Blob(['posted body']), 'file.txt');
    const posted = await fetch(postURL, { method: 'POST', body: form });
    expect(posted.status).toBe(204);
    expect((await readAll(await client.getObject('mjs-presigned', 'posted/file.txt'))).toString()).toBe('posted body');
  });
});
