import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AssumeRoleCommand, STSClient, STSServiceException, type Credentials as StsCredentials } from '@aws-sdk/client-sts';
import * as Minio from 'minio';
import { AssumeRoleProvider } from 'minio/dist/esm/AssumeRoleProvider.mjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServerHandle } from './helpers.js';
import { errorCode, send, signV4, type Credentials } from './wire.js';

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const ASSUME_ROLE_900 = 'Action=AssumeRole&Version=2011-06-15&DurationSeconds=900';

let server: DevServerHandle;
let root: Credentials;

beforeAll(async () => {
  server = await startDevServer();
  root = { accessKey: server.accessKey, secretKey: server.secretKey };
});

afterAll(async () => {
  await server?.stop();
});

function stsClient(credentials: Credentials, url = server.url): STSClient {
  return new STSClient({
    endpoint: url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: credentials.accessKey,
      secretAccessKey: credentials.secretKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
  });
}

function s3Client(credentials: Credentials, url = server.url): S3Client {
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: credentials.accessKey,
      secretAccessKey: credentials.secretKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
  });
}

/** Calls AssumeRole with the SDK; RoleArn and RoleSessionName are required by the SDK and ignored by MinIO. */
async function assumeRole(url = server.url, durationSeconds?: number): Promise<Credentials & { expiration: Date }> {
  const sts = stsClient(root, url);
  try {
    const output = await sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'test', ...(durationSeconds === undefined ? {} : { DurationSeconds: durationSeconds }) }),
    );
    return { ...credentialsOf(output.Credentials), expiration: output.Credentials!.Expiration! };
  } finally {
    sts.destroy();
  }
}

function credentialsOf(issued: StsCredentials | undefined): Credentials {
  if (issued?.AccessKeyId === undefined || issued.SecretAccessKey === undefined || issued.SessionToken === undefined) {
    throw new Error('the AssumeRole response has no complete Credentials element');
  }
  return { accessKey: issued.AccessKeyId, secretKey: issued.SecretAccessKey, sessionToken: issued.SessionToken };
}

async function errorOf<E>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the request to fail');
}

/** Signs an AssumeRole form for service sts with the wire helpers, so the request can be altered after signing. */
function signAssumeRole(credentials: Credentials, body: string, options: { service?: string; omitContentSha256?: boolean } = {}) {
  return signV4(credentials, { method: 'POST', port: server.port, path: '/', body, headers: { 'content-type': FORM }, service: 'sts', ...options });
}

describe('AssumeRole', () => {
  it('returns temporary credentials for the root user', async () => {
    const before = Date.now();
    const issued = await assumeRole(server.url, 900);

    expect(issued.accessKey).toMatch(/^[A-Z0-9]{20}$/);
    expect(issued.secretKey).toHaveLength(40);
    expect(issued.sessionToken!.length).toBeGreaterThan(100);
    expect(issued.expiration.getTime()).toBeGreaterThan(before + 899_000);
    expect(issued.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);
    expect(issued.expiration.getUTCMilliseconds()).toBe(0);
  });

  it('defaults to one hour without DurationSeconds', async () => {
    const before = Date.now();
    const issued = await assumeRole(server.url);

    expect(issued.expiration.getTime()).toBeGreaterThan(before + 3_599_000);
    expect(issued.expiration.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it('answers with MinIO response shape', async () => {
    const response = await send(server.port, await signAssumeRole(root, ASSUME_ROLE_900));

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/xml');
    expect(response.body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<AssumeRoleResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><AssumeRoleResult><AssumedRoleUser><Arn><\/Arn><AssumeRoleId><\/AssumeRoleId><\/AssumedRoleUser><Credentials><AccessKeyId>[A-Z0-9]{20}<\/AccessKeyId><SecretAccessKey>[^<]{40}<\/SecretAccessKey><SessionToken>[A-Za-z0-9_-]+<\/SessionToken><Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration><\/Credentials><\/AssumeRoleResult><ResponseMetadata><RequestId>[0-9A-F]+<\/RequestId><\/ResponseMetadata><\/AssumeRoleResponse>$/,
    );
    expect(/<RequestId>([^<]+)</.exec(response.body)?.[1]).toBe(response.headers['x-amz-request-id']);
  });

  it('issues different credentials on every call', async () => {
    const first = await assumeRole();
    const second = await assumeRole();

    expect(second.accessKey).not.toBe(first.accessKey);
    expect(second.secretKey).not.toBe(first.secretKey);
    expect(second.sessionToken).not.toBe(first.sessionToken);
  });

  it('works with the minio-js AssumeRoleProvider', async () => {
    const provider = new AssumeRoleProvider({
      stsEndpoint: server.url,
      accessKey: root.accessKey,
      secretKey: root.secretKey,
      durationSeconds: 900,
      region: 'us-east-1',
    });
    const issued = await provider.getCredentials();

    expect(issued.getAccessKey()).toMatch(/^[A-Z0-9]{20}$/);
    expect(issued.getSessionToken()!.length).toBeGreaterThan(100);
  });

  const outOfRange = [899, 31_536_001, 0];
  for (const durationSeconds of outOfRange) {
    it(`rejects DurationSeconds ${durationSeconds} with InvalidParameterValue`, async () => {
      const sts = stsClient(root);
      const error = await errorOf<STSServiceException>(
        sts.send(new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'test', DurationSeconds: durationSeconds })),
      );
      sts.destroy();

      expect(error.name).toBe('InvalidParameterValue');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toContain('DurationSeconds');
    });
  }

  const badForms: Array<[string, string, number, string]> = [
    ['a non-numeric DurationSeconds', 'Action=AssumeRole&Version=2011-06-15&DurationSeconds=abc', 400, 'InvalidParameterValue'],
    ['a negative DurationSeconds', 'Action=AssumeRole&Version=2011-06-15&DurationSeconds=-900', 400, 'InvalidParameterValue'],
    ['a missing Version', 'Action=AssumeRole', 400, 'MissingParameter'],
    ['another Version', 'Action=AssumeRole&Version=2010-01-01', 400, 'MissingParameter'],
    ['another Action', 'Action=GetSessionToken&Version=2011-06-15', 400, 'InvalidParameterValue'],
    ['a Policy that is not JSON', 'Action=AssumeRole&Version=2011-06-15&Policy=%7Bnope', 400, 'InvalidParameterValue'],
    ['a Policy without Version', 'Action=AssumeRole&Version=2011-06-15&Policy=%7B%7D', 400, 'InvalidParameterValue'],
  ];
  for (const [name, body, status, code] of badForms) {
    it(`rejects ${name} with ${code}`, async () => {
      const response = await send(server.port, await signAssumeRole(root, body));

      expect(response.status).toBe(status);
      expect(errorCode(response)).toBe(code);
      expect(response.body).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type></Type><Code>');
    });
  }

  it('accepts and ignores a valid session Policy', async () => {
    const policy = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::*'] }] }));
    const response = await send(server.port, await signAssumeRole(root, `${ASSUME_ROLE_900}&Policy=${policy}`));

    expect(response.status).toBe(200);
    expect(response.body).toContain('<AccessKeyId>');
  });

  it('rejects a body changed after signing', async () => {
    // Without x-amz-content-sha256 only the signature, computed over the body's SHA-256, can notice.
    const wire = await signAssumeRole(root, ASSUME_ROLE_900, { omitContentSha256: true });
    const response = await send(server.port, { ...wire, body: ASSUME_ROLE_900.replace('900', '901') });

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
    expect(response.body).toContain('SignatureDoesNotMatch');
  });

  it('rejects a body that does not match x-amz-content-sha256', async () => {
    const wire = await signAssumeRole(root, ASSUME_ROLE_900);
    const response = await send(server.port, { ...wire, body: ASSUME_ROLE_900.replace('900', '901') });

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
    expect(response.body).toContain('XAmzContentSHA256Mismatch');
  });

  it('accepts a body signed without x-amz-content-sha256', async () => {
    const response = await send(server.port, await signAssumeRole(root, ASSUME_ROLE_900, { omitContentSha256: true }));

    expect(response.status).toBe(200);
    expect(response.body).toContain('<AccessKeyId>');
  });

  it('rejects a signature for service s3', async () => {
    const response = await send(server.port, await signAssumeRole(root, ASSUME_ROLE_900, { service: 's3' }));

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
    expect(response.body).toContain('expected &quot;sts&quot;');
  });

  it('rejects a wrong secret key', async () => {
    const response = await send(server.port, await signAssumeRole({ ...root, secretKey: `${root.secretKey}x` }, ASSUME_ROLE_900));

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
    expect(response.body).not.toContain(root.secretKey);
  });

  it('rejects an unknown access key', async () => {
    const response = await send(server.port, await signAssumeRole({ accessKey: 'NOSUCHKEY', secretKey: 'whatever-secret' }, ASSUME_ROLE_900));

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
  });

  it('rejects an unsigned request', async () => {
    const response = await send(server.port, { method: 'POST', path: '/', query: '', headers: { host: `127.0.0.1:${server.port}`, 'content-type': FORM }, body: ASSUME_ROLE_900 });

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
  });

  it('rejects temporary credentials as the caller', async () => {
    const issued = await assumeRole();
    const sts = stsClient(issued);
    const error = await errorOf<STSServiceException>(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'again' })));
    sts.destroy();

    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('rejects a body over 64 KiB', async () => {
    const body = `${ASSUME_ROLE_900}&Padding=${'a'.repeat(70 * 1024)}`;
    const response = await send(server.port, await signAssumeRole(root, body));

    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('InvalidParameterValue');
  });
});

describe('S3 with temporary credentials', () => {
  it('creates a bucket and round-trips an object', async () => {
    const s3 = s3Client(await assumeRole());
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'sts-round-trip' }));
      await s3.send(new PutObjectCommand({ Bucket: 'sts-round-trip', Key: 'dir/hello.txt', Body: 'hello from a session' }));
      const object = await s3.send(new GetObjectCommand({ Bucket: 'sts-round-trip', Key: 'dir/hello.txt' }));
      const listing = await s3.send(new ListObjectsV2Command({ Bucket: 'sts-round-trip' }));

      expect(await object.Body!.transformToString()).toBe('hello from a session');
      expect(listing.Contents?.map((entry) => entry.Key)).toEqual(['dir/hello.txt']);
    } finally {
      s3.destroy();
    }
  });

  it('serves a presigned GET that carries the session token', async () => {
    const issued = await assumeRole();
    const s3 = s3Client(issued);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'sts-presigned' }));
      await s3.send(new PutObjectCommand({ Bucket: 'sts-presigned', Key: 'file.txt', Body: 'presigned body' }));
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sts-presigned', Key: 'file.txt' }), { expiresIn: 300 });
      const response = await fetch(url);

      expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe(issued.sessionToken);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('presigned body');
    } finally {
      s3.destroy();
    }
  });

  it('rejects a presigned GET whose session token was changed', async () => {
    const issued = await assumeRole();
    const s3 = s3Client(issued);
    try {
      const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sts-presigned', Key: 'file.txt' }), { expiresIn: 300 }));
      url.searchParams.set('X-Amz-Security-Token', `${issued.sessionToken!.slice(0, -1)}A`);
      const response = await fetch(url);

      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>InvalidTokenId</Code>');
    } finally {
      s3.destroy();
    }
  });

  it('accepts a presigned POST form signed with temporary credentials', async () => {
    const s3 = s3Client(await assumeRole());
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'sts-post-form' }));
      const post = await createPresignedPost(s3, { Bucket: 'sts-post-form', Key: 'form.txt', Expires: 300 });
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) {
        form.append(name, value);
      }
      form.append('file', new Blob(['posted with a session']), 'form.txt');
      const response = await fetch(`${server.url}/sts-post-form`, { method: 'POST', body: form });
      const object = await s3.send(new GetObjectCommand({ Bucket: 'sts-post-form', Key: 'form.txt' }));

      expect(post.fields['X-Amz-Security-Token']).toBeDefined();
      expect(response.status).toBe(204);
      expect(await object.Body!.transformToString()).toBe('posted with a session');
    } finally {
      s3.destroy();
    }
  });

  it('works with minio-js and a session token', async () => {
    const issued = await assumeRole();
    const client = new Minio.Client({
      endPoint: '127.0.0.1',
      port: server.port,
      useSSL: false,
      accessKey: issued.accessKey,
      secretKey: issued.secretKey,
      sessionToken: issued.sessionToken!,
      region: 'us-east-1',
      pathStyle: true,
    });
    await client.makeBucket('sts-minio-js');
    await client.putObject('sts-minio-js', 'a.txt', Buffer.from('minio-js session'));
    const stream = await client.getObject('sts-minio-js', 'a.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
    }

    expect(Buffer.concat(chunks).toString()).toBe('minio-js session');
  });

  const tokenCases: Array<[string, (issued: Credentials) => Credentials, string]> = [
    ['a wrong session token', (issued) => ({ ...issued, sessionToken: `${issued.sessionToken!.slice(0, -1)}A` }), 'InvalidTokenId'],
    ['a session token of other credentials', (issued) => ({ ...issued, sessionToken: 'x'.repeat(issued.sessionToken!.length) }), 'InvalidTokenId'],
    ['no session token', (issued) => ({ accessKey: issued.accessKey, secretKey: issued.secretKey }), 'InvalidTokenId'],
    ['a session token with the root credentials', (issued) => ({ ...root, sessionToken: issued.sessionToken! }), 'InvalidTokenId'],
    ['an unknown access key', (issued) => ({ ...issued, accessKey: 'AAAAAAAAAAAAAAAAAAAA' }), 'InvalidAccessKeyId'],
  ];
  for (const [name, alter, code] of tokenCases) {
    it(`rejects ${name} with ${code}`, async () => {
      const s3 = s3Client(alter(await assumeRole()));
      const error = await errorOf<S3ServiceException>(s3.send(new ListObjectsV2Command({ Bucket: 'sts-round-trip' })));
      s3.destroy();

      expect(error.name).toBe(code);
      expect(error.$metadata.httpStatusCode).toBe(403);
    });
  }

  it('rejects an unsigned request that carries a session token', async () => {
    const issued = await assumeRole();
    const response = await send(server.port, {
      method: 'GET',
      path: '/sts-round-trip',
      query: '',
      headers: { host: `127.0.0.1:${server.port}`, 'x-amz-security-token': issued.sessionToken! },
    });

    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('AccessDenied');
    expect(response.body).toContain('No AWSAccessKey was presented');
  });

  it('signs X-Amz-Security-Token with the wire helper too', async () => {
    const issued = await assumeRole();
    const response = await send(server.port, await signV4(issued, { method: 'GET', port: server.port, path: '/sts-round-trip', query: { 'list-type': '2' } }));

    expect(response.status).toBe(200);
    expect(response.body).toContain('<Key>dir/hello.txt</Key>');
  });
});

describe('expired temporary credentials', () => {
  let shortLived: DevServerHandle;

  beforeAll(async () => {
    // The fault makes every temporary credential expire one second after issue.
    shortLived = await startDevServer({ env: { MINIO_DEV_FAULT: 'sts-expire-after-ms:1000' } });
  });

  afterAll(async () => {
    await shortLived?.stop();
  });

  it('rejects them with InvalidAccessKeyId as MinIO does', async () => {
    const sts = stsClient({ accessKey: shortLived.accessKey, secretKey: shortLived.secretKey }, shortLived.url);
    const output = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:minio:iam:::role/dev', RoleSessionName: 'test', DurationSeconds: 900 }));
    sts.destroy();
    await waitUntil(output.Credentials!.Expiration!.getTime() + 50);

    const s3 = s3Client(credentialsOf(output.Credentials), shortLived.url);
    const error = await errorOf<S3ServiceException>(s3.send(new CreateBucketCommand({ Bucket: 'too-late' })));
    s3.destroy();

    expect(error.name).toBe('InvalidAccessKeyId');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain('expired');
  });
});

/** Sleeps until the wall clock passes `timeMs`; bounded, because the fault caps lifetimes at one second. */
async function waitUntil(timeMs: number): Promise<void> {
  const remainingMs = timeMs - Date.now();
  if (remainingMs > 5_000) {
    throw new Error(`refusing to wait ${remainingMs} ms for credentials to expire; the fault should cap it at 1000 ms`);
  }
  if (remainingMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, remainingMs));
  }
}
