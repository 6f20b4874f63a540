import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { expect } from 'vitest';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';
import { addTenants, cli, PidTracker, rowOf, statusOf, type AddedTenant } from '../../helpers/tenants.js';

/**
 * Two tenants, alice and bob, brought up with the real CLI. Client tests run one scenario
 * against the proxy and against alice's own server and compare what the client saw.
 */
export interface TenantPair {
  workspace: Workspace;
  alice: AddedTenant;
  bob: AddedTenant;
  proxyEndpoint: string;
  /** alice's own server, bypassing the proxy. */
  aliceDirectEndpoint: string;
  /** Scratch directory for files, tool configurations and HOME. */
  scratchDir: string;
  pids: PidTracker;
}

export interface Target {
  /** `proxy` or `direct`; also part of bucket names, so the two runs never share a bucket. */
  label: 'proxy' | 'direct';
  endpoint: string;
}

/** Workspaces tried when another process takes the proxy port before `up` binds it. */
const MAX_START_ATTEMPTS = 3;

export async function startTenantPair(): Promise<TenantPair> {
  const { workspace, tenants, pids } = await upInFreshWorkspace();
  const status = await statusOf(workspace);
  pids.remember(status);
  const aliceRow = rowOf(status, 'alice');
  expect(aliceRow.state).toBe('running');
  expect(rowOf(status, 'bob').state).toBe('running');

  const proxyEndpoint = `http://127.0.0.1:${workspace.proxyPort}`;
  for (const tenant of tenants.values()) {
    await waitUntilServedByProxy(proxyEndpoint, tenant);
  }

  return {
    workspace,
    alice: tenants.get('alice') as AddedTenant,
    bob: tenants.get('bob') as AddedTenant,
    proxyEndpoint,
    aliceDirectEndpoint: `http://127.0.0.1:${aliceRow.port}`,
    scratchDir: await mkdtemp(join(tmpdir(), 'minio-tenants-clients-')),
    pids,
  };
}

/**
 * Runs `up --detach` in a new workspace. makeWorkspace checks that the proxy port is free,
 * but it lies in the kernel's ephemeral port range (32768-60999 by default on Linux), so
 * an outgoing connection of a parallel test can take it before `up` binds it. Then the
 * workspace is dropped and a new one, with other ports, is tried.
 */
async function upInFreshWorkspace(): Promise<{ workspace: Workspace; tenants: Map<string, AddedTenant>; pids: PidTracker }> {
  for (let attempt = 1; ; attempt += 1) {
    const workspace = await makeWorkspace();
    const pids = new PidTracker();
    const tenants = await addTenants(workspace, ['alice', 'bob']);
    const up = await cli(workspace, ['up', '--detach']);
    if (up.exitCode === 0) {
      return { workspace, tenants, pids };
    }

    // A failed start may have left servers running; status.json names their pids.
    await statusOf(workspace).then(
      (status) => pids.remember(status),
      () => undefined,
    );
    await pids.cleanup(workspace);
    await workspace.cleanup();
    const portTaken = up.stderr.includes('already in use');
    if (!portTaken || attempt === MAX_START_ATTEMPTS) {
      throw new Error(`"up --detach" failed with exit code ${up.exitCode} (attempt ${attempt} of ${MAX_START_ATTEMPTS}): ${up.stderr}`);
    }
  }
}

/**
 * Waits at most `timeoutMs` for a signed ListBuckets through the proxy to succeed. The
 * proxy returns 503 until it has loaded the routing table, and the clients under test
 * should not depend on their own retries for that.
 */
async function waitUntilServedByProxy(proxyEndpoint: string, tenant: AddedTenant, timeoutMs = 20_000): Promise<void> {
  const client = s3ClientAt(proxyEndpoint, tenant);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        await client.send(new ListBucketsCommand({}));
        return;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    client.destroy();
  }
  throw new Error(`the proxy at ${proxyEndpoint} did not serve tenant ${tenant.name} within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Runs `down`, kills any remembered pid still alive and deletes the temporary directories. */
export async function stopTenantPair(pair: TenantPair | undefined): Promise<void> {
  if (pair === undefined) {
    return;
  }
  await pair.pids.cleanup(pair.workspace);
  await pair.workspace.cleanup();
  await rm(pair.scratchDir, { recursive: true, force: true });
}

export function targetsOf(pair: TenantPair): Target[] {
  return [
    { label: 'proxy', endpoint: pair.proxyEndpoint },
    { label: 'direct', endpoint: pair.aliceDirectEndpoint },
  ];
}

/** An SDK client with one attempt, so a failure through the proxy is not hidden by a retry. */
export function s3ClientAt(endpoint: string, tenant: AddedTenant): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
    maxAttempts: 1,
  });
}

/** Checks with the SDK on alice's own server what a client stored. */
export async function listKeysDirect(pair: TenantPair, bucket: string): Promise<string[]> {
  const client = s3ClientAt(pair.aliceDirectEndpoint, pair.alice);
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  client.destroy();
  return (listed.Contents ?? []).map((entry) => entry.Key ?? '').sort();
}

export async function etagDirect(pair: TenantPair, bucket: string, key: string): Promise<string> {
  const client = s3ClientAt(pair.aliceDirectEndpoint, pair.alice);
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  client.destroy();
  return (head.ETag ?? '').replaceAll('"', '');
}

/** Bucket names that a tenant's own server lists, asked through the proxy with its keys. */
export async function bucketsOf(pair: TenantPair, tenant: AddedTenant): Promise<string[]> {
  const client = s3ClientAt(pair.proxyEndpoint, tenant);
  const listed = await client.send(new ListBucketsCommand({}));
  client.destroy();
  return (listed.Buckets ?? []).map((bucket) => bucket.Name ?? '').sort();
}

export interface TestFile {
  path: string;
  bytes: number;
  sha256: string;
}

export async function writeRandomFile(dir: string, name: string, bytes: number): Promise<TestFile> {
  const data = randomBytes(bytes);
  const path = join(dir, name);
  await writeFile(path, data);
  return { path, bytes, sha256: sha256Of(data) };
}

export function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256OfFile(path: string): Promise<string> {
  return sha256Of(await readFile(path));
}

/** GETs a presigned URL with Node's fetch and returns the status and the body's sha256. */
export async function fetchSha256(url: string): Promise<{ status: number; sha256: string }> {
  const response = await fetch(url);
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, sha256: sha256Of(body) };
}

/** Fails with the install command when a Debian package that the test drives is missing. */
export async function assertExecutable(path: string, debianPackage: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing; install it with "apt-get install -y ${debianPackage}" (.ci/run does this on CI)`);
  }
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a client tool with only the given environment: no inherited HTTP_PROXY, AWS
 * profile or home directory can send it anywhere but the endpoint in the test.
 * Secrets go in `env` or files, never in `args`.
 */
export async function runTool(file: string, args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<ToolResult> {
  const result = await execa(file, args, {
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', NO_PROXY: '*', no_proxy: '*', ...env },
    extendEnv: false,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
