import { request } from 'node:http';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/supervisor/process-info.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { AWKWARD_KEYS, AWKWARD_METADATA, s3ErrorCode } from '../helpers/s3-fixtures.js';

interface AddedTenant {
  name: string;
  accessKey: string;
  secretKey: string;
  endpoint: string;
  port: number;
}

interface StatusJson {
  supervisor: { running: boolean; pid: number | null };
  proxy: { running: boolean; url: string };
  tenants: Array<{ name: string; state: string; pid: number | null; port: number | null; accessKey: string | null; engine: string | null }>;
}

const TENANT_NAMES = ['alice', 'bob', 'carol'];

let workspace: Workspace;
const tenants = new Map<string, AddedTenant>();
const serverPids: number[] = [];
let supervisorPid: number | null = null;
let upOutput = '';

async function cli(args: string[]) {
  return runCli(['--config', workspace.configFile, ...args], { cwd: workspace.dir });
}

async function status(): Promise<StatusJson> {
  const result = await cli(['status', '--json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

function tenant(name: string): AddedTenant {
  const found = tenants.get(name);
  if (found === undefined) {
    throw new Error(`tenant ${name} was not added`);
  }
  return found;
}

function sdkClient(name: string, secretKey = tenant(name).secretKey): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${workspace.proxyPort}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: tenant(name).accessKey, secretAccessKey: secretKey },
    maxAttempts: 1,
  });
}

function minioClient(name: string): Minio.Client {
  return new Minio.Client({
    endPoint: '127.0.0.1',
    port: workspace.proxyPort,
    useSSL: false,
    accessKey: tenant(name).accessKey,
    secretKey: tenant(name).secretKey,
    region: 'us-east-1',
    pathStyle: true,
  });
}

/** Sends a raw request to the proxy and returns the status and body. */
function rawRequest(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: workspace.proxyPort, path, method: 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  workspace = await makeWorkspace();
  for (const name of TENANT_NAMES) {
    const result = await cli(['add', name, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    tenants.set(name, JSON.parse(result.stdout) as AddedTenant);
  }
}, 120_000);

afterAll(async () => {
  // Stop whatever is still running, then check by pid that nothing is left.
  await cli(['down']);
  for (const pid of [supervisorPid, ...serverPids]) {
    if (pid !== null && isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
    }
  }
  await workspace?.cleanup();
}, 60_000);

describe('minio-tenants up with three tenants', () => {
  it('reports every tenant stopped before up', async () => {
    const before = await status();
    expect(before.supervisor.running).toBe(false);
    expect(before.proxy.running).toBe(false);
    expect(before.tenants.map((row) => row.name)).toEqual(TENANT_NAMES);
    for (const row of before.tenants) {
      expect(row.state).toBe('stopped');
      expect(row.pid).toBeNull();
      expect(row.accessKey).toBe(tenant(row.name).accessKey);
    }
  });

  it('starts in the background and reports each tenant ready', async () => {
    const result = await cli(['up', '--detach']);
    upOutput = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, upOutput).toBe(0);
    for (const name of TENANT_NAMES) {
      expect(result.stdout).toMatch(new RegExp(`ready\\s+${name}\\b`));
    }
    expect(result.stderr).toMatch(/embedded development server/);
  });

  it('shows every tenant running during up', async () => {
    const during = await status();
    expect(during.supervisor.running).toBe(true);
    expect(during.proxy.running).toBe(true);
    supervisorPid = during.supervisor.pid;
    const ports = new Set<number>();
    for (const row of during.tenants) {
      expect(row.state).toBe('running');
      expect(row.engine).toBe('development');
      expect(typeof row.pid).toBe('number');
      expect(row.port).toBe(tenant(row.name).port);
      serverPids.push(row.pid as number);
      ports.add(row.port as number);
    }
    expect(ports.size).toBe(TENANT_NAMES.length);
  });

  it('rejects a second up and names the running pid', async () => {
    const result = await cli(['up', '--detach']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`pid ${supervisorPid}`);
  });

  it('keeps secrets out of status, routes and process arguments', async () => {
    const table = await cli(['status']);
    const json = await cli(['status', '--json']);
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const routes = await readFile(join(workspace.dir, '.minio-tenants', 'routes.json'), 'utf8');
    const cmdlines = await Promise.all(
      serverPids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')),
    );
    const supervisorLog = await readFile(join(workspace.dir, '.minio-tenants', 'logs', 'supervisor.log'), 'utf8');
    for (const { secretKey } of tenants.values()) {
      for (const text of [table.stdout, json.stdout, routes, upOutput, supervisorLog, ...cmdlines]) {
        expect(text).not.toContain(secretKey);
      }
    }
  });

  for (const name of TENANT_NAMES) {
    it(`round-trips objects for ${name} with @aws-sdk/client-s3 through the proxy`, async () => {
      const s3 = sdkClient(name);
      const bucket = `${name}-sdk`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const key of AWKWARD_KEYS) {
        const body = `body of ${key} for ${name}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: AWKWARD_METADATA }));
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        expect(head.Metadata).toEqual(AWKWARD_METADATA);
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        expect(await got.Body?.transformToString()).toBe(body);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(listed.Contents?.map((entry) => entry.Key).sort()).toEqual([...AWKWARD_KEYS].sort());
      const prefixed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'ünïcødé/' }));
      expect(prefixed.Contents?.map((entry) => entry.Key)).toEqual(['ünïcødé/文件.txt']);

      const presignedPut = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned put.txt' }), { expiresIn: 300 });
      const putResponse = await fetch(presignedPut, { method: 'PUT', body: 'uploaded by URL' });
      expect(putResponse.status).toBe(200);
      const presignedGet = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presigned put.txt' }), { expiresIn: 300 });
      const getResponse = await fetch(presignedGet);
      expect(getResponse.status).toBe(200);
      expect(await getResponse.text()).toBe('uploaded by URL');

      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a+b.txt' }));
      const afterDelete = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(afterDelete.Contents?.some((entry) => entry.Key === 'a+b.txt')).toBe(false);
      s3.destroy();
    });

    it(`round-trips objects for ${name} with minio-js through the proxy`, async () => {
      const client = minioClient(name);
      const bucket = `${name}-minio-js`;
      await client.makeBucket(bucket, 'us-east-1');
      for (const key of AWKWARD_KEYS) {
        const body = Buffer.from(`minio-js body of ${key}`);
        await client.putObject(bucket, key, body, body.length, { 'X-Amz-Meta-My.Dotted': 'dot value', 'X-Amz-Meta-My_Underscored': 'underscore value' });
        const stat = await client.statObject(bucket, key);
        expect(stat.size).toBe(body.length);
        expect(stat.metaData['my.dotted']).toBe('dot value');
        expect(stat.metaData['my_underscored']).toBe('underscore value');
        const stream = await client.getObject(bucket, key);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) {
          chunks.push(chunk as Buffer);
        }
        expect(Buffer.concat(chunks).equals(body)).toBe(true);
      }

      const putUrl = await client.presignedPutObject(bucket, 'minio presigned.txt', 300);
      expect((await fetch(putUrl, { method: 'PUT', body: 'minio presigned body' })).status).toBe(200);
      const getUrl = await client.presignedGetObject(bucket, 'minio presigned.txt', 300);
      const response = await fetch(getUrl);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('minio presigned body');

      await client.removeObject(bucket, 'with space.txt');
      await expect(client.statObject(bucket, 'with space.txt')).rejects.toMatchObject({ code: 'NotFound' });
    });
  }

  it('lists only the buckets of the tenant whose key signed the request', async () => {
    for (const name of TENANT_NAMES) {
      const s3 = sdkClient(name);
      const listed = await s3.send(new ListBucketsCommand({}));
      expect(listed.Buckets?.map((bucket) => bucket.Name).sort()).toEqual([`${name}-minio-js`, `${name}-sdk`]);
      s3.destroy();
    }
  });

  it("answers alice's key with a wrong secret with SignatureDoesNotMatch from her server", async () => {
    const s3 = sdkClient('alice', 'not-alices-secret-key');
    const attempt = s3.send(new ListBucketsCommand({}));
    await expect(attempt).rejects.toBeInstanceOf(S3ServiceException);
    await expect(attempt).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    s3.destroy();
  });

  it('answers an unknown access key with 403 InvalidAccessKeyId', async () => {
    const response = await rawRequest('/', {
      Authorization: 'AWS4-HMAC-SHA256 Credential=NOSUCHKEY/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
    });
    expect(response.status).toBe(403);
    expect(s3ErrorCode(response.body)).toBe('InvalidAccessKeyId');
  });

  it('answers a request without credentials with 403 AccessDenied', async () => {
    const response = await rawRequest('/alice-sdk/with%20space.txt');
    expect(response.status).toBe(403);
    expect(s3ErrorCode(response.body)).toBe('AccessDenied');
  });

  it('answers a header and a presigned query together with 400 InvalidArgument', async () => {
    const key = tenant('alice').accessKey;
    const response = await rawRequest(`/?X-Amz-Credential=${key}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request`, {
      Authorization: `AWS ${key}:c2lnbmF0dXJl`,
    });
    expect(response.status).toBe(400);
    expect(s3ErrorCode(response.body)).toBe('InvalidArgument');
  });

  it('stops everything on down and reports every tenant stopped', async () => {
    const result = await cli(['down']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(supervisorPid).not.toBeNull();
    expect(isAlive(supervisorPid as number)).toBe(false);
    for (const pid of serverPids) {
      expect(isAlive(pid), `server pid ${pid}`).toBe(false);
    }
    const after = await status();
    expect(after.supervisor.running).toBe(false);
    expect(after.tenants.every((row) => row.state === 'stopped' && row.pid === null)).toBe(true);
  });

  it('keeps every object across down and up', async () => {
    const result = await cli(['up', '--detach']);
    expect(result.exitCode, result.stderr).toBe(0);
    const running = await status();
    supervisorPid = running.supervisor.pid;
    serverPids.push(...running.tenants.map((row) => row.pid as number));
    const s3 = sdkClient('bob');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bob-sdk' }));
    expect(listed.Contents?.length).toBe(AWKWARD_KEYS.length);
    s3.destroy();
    expect((await cli(['down'])).exitCode).toBe(0);
  });
});
