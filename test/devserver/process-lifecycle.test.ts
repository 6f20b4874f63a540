import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import getPort from 'get-port';
import { afterEach, describe, expect, it } from 'vitest';
import { randomCredentials, spawnDevServer, startDevServer, stopProcess, type DevServerHandle } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) {
    await cleanups.pop()!();
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'devserver-life-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function clientFor(server: DevServerHandle): S3Client {
  const client = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
  });
  cleanups.push(async () => client.destroy());
  return client;
}

/** Runs the binary to completion and returns its exit code and output. */
async function runToExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnDevServer(args, env);
  cleanups.push(() => stopProcess(child.process));
  const { code } = await child.exited;
  return { code, output: child.output() };
}

function rootEnv(): Record<string, string> {
  const credentials = randomCredentials();
  return { MINIO_ROOT_USER: credentials.accessKey, MINIO_ROOT_PASSWORD: credentials.secretKey };
}

async function healthStatus(url: string, timeoutMs = 1_000): Promise<number | 'no answer'> {
  try {
    return (await fetch(`${url}/minio/health/ready`, { signal: AbortSignal.timeout(timeoutMs) })).status;
  } catch {
    return 'no answer';
  }
}

describe('dev server process', () => {
  it('prints its version', async () => {
    const { code, output } = await runToExit(['--version'], {});
    expect(code).toBe(0);
    expect(output).toMatch(/^minio-dev-server version DEVELOPMENT\.\d+\.\d+\.\d+\n$/);
  });

  it('rejects an unknown flag with exit code 1', async () => {
    const { code, output } = await runToExit(['server', '--adress', '127.0.0.1:1', '/tmp/unused'], rootEnv());
    expect(code).toBe(1);
    expect(output).toContain('unknown flag "--adress"');
  });

  const badCredentials: Array<[string, Record<string, string>, RegExp]> = [
    ['missing', {}, /missing credentials: set MINIO_ROOT_USER and MINIO_ROOT_PASSWORD/],
    ['a short access key', { MINIO_ROOT_USER: 'ab', MINIO_ROOT_PASSWORD: 'long-enough' }, /MINIO_ROOT_USER must be at least 3 characters/],
    ['a short secret key', { MINIO_ROOT_USER: 'admin', MINIO_ROOT_PASSWORD: 'short' }, /MINIO_ROOT_PASSWORD must be at least 8 characters/],
    ['a short legacy secret key', { MINIO_ACCESS_KEY: 'admin', MINIO_SECRET_KEY: 'short' }, /MINIO_SECRET_KEY must be at least 8 characters/],
  ];
  for (const [name, env, message] of badCredentials) {
    it(`refuses to start with ${name} credentials`, async () => {
      const dataDir = await tempDir();
      const { code, output } = await runToExit(['server', '--address', `127.0.0.1:${await getPort()}`, dataDir], env);
      expect(code).not.toBe(0);
      expect(output).toMatch(message);
      expect(output).not.toContain('long-enough');
    });
  }

  it('starts with the legacy MINIO_ACCESS_KEY variables', async () => {
    const credentials = randomCredentials();
    const port = await getPort({ host: '127.0.0.1' });
    const dataDir = await tempDir();
    const child = spawnDevServer(['server', '--address', `127.0.0.1:${port}`, '--console-address', ':0', dataDir], {
      MINIO_ACCESS_KEY: credentials.accessKey,
      MINIO_SECRET_KEY: credentials.secretKey,
    });
    cleanups.push(() => stopProcess(child.process));
    for (let attempt = 0; attempt < 100 && !child.output().includes('API:'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(child.output()).toContain(`API: http://127.0.0.1:${port}`);
    expect(await healthStatus(`http://127.0.0.1:${port}`)).toBe(200);
  });

  it('exits non-zero when its port is taken', async () => {
    const first = await startDevServer();
    cleanups.push(() => first.stop());
    const { code, output } = await runToExit(['server', '--address', `127.0.0.1:${first.port}`, await tempDir()], rootEnv());
    expect(code).toBe(1);
    expect(output).toContain(`cannot listen on 127.0.0.1:${first.port}: the port is already in use`);
  });

  it('keeps every object across a restart', async () => {
    const dataDir = await tempDir();
    const credentials = randomCredentials();
    const first = await startDevServer({ ...credentials, dataDir });
    expect(first.output()).toContain(`API: http://127.0.0.1:${first.port}`);
    const s3 = clientFor(first);
    await s3.send(new CreateBucketCommand({ Bucket: 'durable' }));
    const keys = ['one.txt', 'nested/two.txt', 'ünïcødé three.txt', '/leading'];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: 'durable', Key: key, Body: `content of ${key}`, Metadata: { 'my.key': key.length.toString() } }));
    }
    const stopped = await first.stop();
    expect(stopped).toEqual({ code: 0, signal: null });

    const second = await startDevServer({ ...credentials, dataDir });
    cleanups.push(() => second.stop());
    const s3Again = clientFor(second);
    const listed = await s3Again.send(new ListObjectsV2Command({ Bucket: 'durable' }));
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      const got = await s3Again.send(new GetObjectCommand({ Bucket: 'durable', Key: key }));
      expect(await got.Body!.transformToString()).toBe(`content of ${key}`);
      expect(got.Metadata?.['my.key']).toBe(key.length.toString());
    }
  });

  it('exits with the code of an exit fault', async () => {
    const { code, output } = await runToExit(['server', '--address', '127.0.0.1:0', await tempDir()], { MINIO_DEV_FAULT: 'exit:3' });
    expect(code).toBe(3);
    expect(output).toContain('exiting with code 3');
  });

  it('rejects an invalid fault spec', async () => {
    const { code, output } = await runToExit(['server', '--address', '127.0.0.1:0', await tempDir()], {
      ...rootEnv(),
      MINIO_DEV_FAULT: 'explode',
    });
    expect(code).toBe(1);
    expect(output).toContain('unknown fault "explode"');
  });

  it('reads the fault from a file and starts once the file is gone', async () => {
    const faultFile = join(await tempDir(), 'fault');
    await writeFile(faultFile, 'exit:4\n');
    const dataDir = await tempDir();
    const { code } = await runToExit(['server', '--address', '127.0.0.1:0', dataDir], { MINIO_DEV_FAULT_FILE: faultFile });
    expect(code).toBe(4);

    await rm(faultFile);
    const server = await startDevServer({ dataDir, env: { MINIO_DEV_FAULT_FILE: faultFile } });
    cleanups.push(() => server.stop());
    expect(await healthStatus(server.url)).toBe(200);
  });

  it('exits after the given number of requests', async () => {
    const server = await startDevServer({ env: { MINIO_DEV_FAULT: 'exit-after-requests:2:5' } });
    cleanups.push(() => server.stop());
    expect((await fetch(`${server.url}/`)).status).toBe(403);
    expect(await healthStatus(server.url)).toBe(200);
    const last = await fetch(`${server.url}/`);
    expect(last.status).toBe(403);
    const result = await server.stop();
    expect(result.code).toBe(5);
  });

  it('never listens when it hangs before ready', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const child = spawnDevServer(['server', '--address', `127.0.0.1:${port}`, await tempDir()], {
      ...rootEnv(),
      MINIO_DEV_FAULT: 'hang-before-ready',
    });
    cleanups.push(() => stopProcess(child.process));
    // The line comes after the signal handlers are installed, so SIGTERM then means a clean exit.
    for (let attempt = 0; attempt < 200 && !child.output().includes('hang-before-ready'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(child.output()).toContain('Fault: hang-before-ready');
    for (let attempt = 0; attempt < 10; attempt += 1) {
      expect(await healthStatus(`http://127.0.0.1:${port}`)).toBe('no answer');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(child.process.exitCode).toBeNull();
    expect(await stopProcess(child.process)).toEqual({ code: 0, signal: null });
  });

  it('stops answering health checks after a number of them', async () => {
    const server = await startDevServer({ env: { MINIO_DEV_FAULT: 'unhealthy-after-requests:3' } });
    cleanups.push(() => server.stop());
    // startDevServer used one or more health checks to see the server live.
    const statuses: Array<number | 'no answer'> = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push(await healthStatus(server.url, 500));
    }
    expect(statuses[statuses.length - 1]).toBe('no answer');
    expect((await fetch(`${server.url}/`)).status).toBe(403);
  });

  it('stops answering health checks after a delay', async () => {
    const server = await startDevServer({ env: { MINIO_DEV_FAULT: 'unhealthy-after-ms:1500' } });
    cleanups.push(() => server.stop());
    let status: number | 'no answer' = 200;
    for (let attempt = 0; attempt < 40 && status === 200; attempt += 1) {
      status = await healthStatus(server.url, 500);
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('no answer');
  });
});
