import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { HttpRequest } from '@smithy/types';
import * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bucketsOf,
  etagDirect,
  fetchSha256,
  s3ClientAt,
  sha256Of,
  startTenantPair,
  stopTenantPair,
  targetsOf,
  type Target,
  type TenantPair,
} from './helpers/tenant-pair.js';

const MIB = 1024 * 1024;
/** S3's minimum part size, so a 12 MiB body goes up in 3 parts of 5, 5 and 2 MiB. */
const PART_SIZE = 5 * MIB;
const LARGE_BODY = Buffer.alloc(12 * MIB, 'large body ');
const STREAM_BODY = Buffer.alloc(3 * MIB + 17, 'streamed ');
const SMALL_BODY = Buffer.from('small body\n'.repeat(50));

/** Yields the body in 64 KiB pieces, so the SDK cannot learn its length up front. */
function unknownLengthStream(body: Buffer): Readable {
  return Readable.from(
    (function* pieces() {
      for (let offset = 0; offset < body.length; offset += 64 * 1024) {
        yield body.subarray(offset, offset + 64 * 1024);
      }
    })(),
  );
}

interface SdkOutcome {
  keys: string[];
  sha256: Record<string, string>;
  presignedStatus: number;
  presignedSha256: string;
}

let pair: TenantPair | undefined;

beforeAll(async () => {
  pair = await startTenantPair();
}, 120_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

describe('@aws-sdk/client-s3 through the proxy', () => {
  const outcomes = new Map<Target['label'], SdkOutcome>();
  /** Headers of the streaming PutObject as sent on the wire, recorded after signing. */
  const streamingHeaders = new Map<Target['label'], Record<string, string>>();

  beforeAll(async () => {
    for (const target of targetsOf(pair as TenantPair)) {
      outcomes.set(target.label, await runAwsSdkScenario(pair as TenantPair, target, streamingHeaders));
    }
  }, 180_000);

  it('matches the direct run', () => {
    expect(outcomes.get('proxy')).toEqual(outcomes.get('direct'));
  });

  it('stores every body intact', () => {
    expect(outcomes.get('proxy')?.keys).toEqual(['large.bin', 'small.txt', 'streamed.bin']);
    expect(outcomes.get('proxy')?.sha256).toEqual({
      'small.txt': sha256Of(SMALL_BODY),
      'large.bin': sha256Of(LARGE_BODY),
      'streamed.bin': sha256Of(STREAM_BODY),
    });
  });

  it('sends a stream body aws-chunked', () => {
    const headers = streamingHeaders.get('proxy') ?? {};
    expect(headers['content-encoding']).toContain('aws-chunked');
    expect(headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(headers['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(headers['transfer-encoding']).toBe('chunked');
    expect(headers['x-amz-decoded-content-length']).toBe(String(STREAM_BODY.length));
  });

  it('uploads a stream with lib-storage in 3 parts', async () => {
    expect(await etagDirect(pair as TenantPair, 'awssdk-proxy', 'large.bin')).toMatch(/-3$/);
  });

  it('serves a presigned GET', () => {
    expect(outcomes.get('proxy')?.presignedStatus).toBe(200);
    expect(outcomes.get('proxy')?.presignedSha256).toBe(sha256Of(SMALL_BODY));
  });

  it("keeps bob's buckets apart", async () => {
    expect(await bucketsOf(pair as TenantPair, (pair as TenantPair).bob)).not.toContain('awssdk-proxy');
  });
});

async function runAwsSdkScenario(tenants: TenantPair, target: Target, streamingHeaders: Map<Target['label'], Record<string, string>>): Promise<SdkOutcome> {
  const bucket = `awssdk-${target.label}`;
  const client = s3ClientAt(target.endpoint, tenants.alice);
  // The deserialize step is the last before the HTTP handler, so the request is final there.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand') {
        const request = args.request as HttpRequest;
        if (request.path.endsWith('/streamed.bin')) {
          streamingHeaders.set(target.label, lowercaseKeys(request.headers));
        }
      }
      return next(args);
    },
    { step: 'deserialize', name: 'recordStreamingHeaders' },
  );

  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.txt', Body: SMALL_BODY }));
  await new Upload({ client, params: { Bucket: bucket, Key: 'large.bin', Body: unknownLengthStream(LARGE_BODY) }, partSize: PART_SIZE, queueSize: 2 }).done();
  // NOTE: without ContentLength, PutObject of a stream fails in the SDK before any request
  // (client-s3 3.1178: `Invalid value "undefined" for header "x-amz-decoded-content-length"`),
  // so streams of unknown length go through lib-storage's Upload above.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed.bin', Body: unknownLengthStream(STREAM_BODY), ContentLength: STREAM_BODY.length }));

  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (listed.Contents ?? []).map((entry) => entry.Key ?? '').sort();
  const sha256: Record<string, string> = {};
  for (const key of ['small.txt', 'large.bin', 'streamed.bin']) {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    sha256[key] = sha256Of(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }

  const presigned = await fetchSha256(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'small.txt' }), { expiresIn: 300 }));
  client.destroy();
  return { keys, sha256, presignedStatus: presigned.status, presignedSha256: presigned.sha256 };
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

describe('minio-js through the proxy', () => {
  const outcomes = new Map<Target['label'], SdkOutcome>();

  beforeAll(async () => {
    for (const target of targetsOf(pair as TenantPair)) {
      outcomes.set(target.label, await runMinioScenario(pair as TenantPair, target));
    }
  }, 180_000);

  it('matches the direct run', () => {
    expect(outcomes.get('proxy')).toEqual(outcomes.get('direct'));
  });

  it('stores every body intact', () => {
    expect(outcomes.get('proxy')?.keys).toEqual(['dir/small.txt', 'large.bin', 'streamed.bin']);
    expect(outcomes.get('proxy')?.sha256).toEqual({
      'dir/small.txt': sha256Of(SMALL_BODY),
      'large.bin': sha256Of(LARGE_BODY),
      'streamed.bin': sha256Of(STREAM_BODY),
    });
  });

  it('uploads the 12 MiB stream in 3 parts', async () => {
    expect(await etagDirect(pair as TenantPair, 'miniojs-proxy', 'large.bin')).toMatch(/-3$/);
  });

  it('serves a presigned GET', () => {
    expect(outcomes.get('proxy')?.presignedStatus).toBe(200);
    expect(outcomes.get('proxy')?.presignedSha256).toBe(sha256Of(SMALL_BODY));
  });

  it("keeps bob's buckets apart", async () => {
    expect(await bucketsOf(pair as TenantPair, (pair as TenantPair).bob)).not.toContain('miniojs-proxy');
  });
});

async function runMinioScenario(tenants: TenantPair, target: Target): Promise<SdkOutcome> {
  const bucket = `miniojs-${target.label}`;
  const url = new URL(target.endpoint);
  const client = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: tenants.alice.accessKey,
    secretKey: tenants.alice.secretKey,
    region: 'us-east-1',
    pathStyle: true,
    partSize: PART_SIZE,
  });

  await client.makeBucket(bucket, 'us-east-1');
  await client.putObject(bucket, 'dir/small.txt', SMALL_BODY);
  // Streams of unknown length are split into partSize parts, so this one is a multipart upload.
  await client.putObject(bucket, 'large.bin', unknownLengthStream(LARGE_BODY));
  await client.putObject(bucket, 'streamed.bin', unknownLengthStream(STREAM_BODY));

  const keys: string[] = [];
  for await (const entry of client.listObjectsV2(bucket, '', true)) {
    keys.push((entry as { name: string }).name);
  }
  const sha256: Record<string, string> = {};
  for (const key of ['dir/small.txt', 'large.bin', 'streamed.bin']) {
    const chunks: Buffer[] = [];
    for await (const chunk of await client.getObject(bucket, key)) {
      chunks.push(chunk as Buffer);
    }
    sha256[key] = sha256Of(Buffer.concat(chunks));
  }

  const presigned = await fetchSha256(await client.presignedGetObject(bucket, 'dir/small.txt', 300));
  return { keys: keys.sort(), sha256, presignedStatus: presigned.status, presignedSha256: presigned.sha256 };
}
