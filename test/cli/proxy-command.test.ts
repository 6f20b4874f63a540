import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRoutesFile } from '../../src/routing/routes-file.js';
import { isAlive } from '../../src/supervisor/process-info.js';
import { CLI_SCRIPT } from '../helpers/cli.js';
import { s3ErrorCode } from '../helpers/s3-fixtures.js';

let dir: string;
let proxyPid: number | undefined;
let proxyPort: number;
let proxyExit: Promise<number | null>;

function sigV4(accessKey: string): string {
  return `AWS4-HMAC-SHA256 Credential=${accessKey}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00`;
}

/** A port that nothing listens on: bound once to find it, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'proxy-command-'));
  const routes = join(dir, 'routes.json');
  const deadPort = await closedPort();
  await writeRoutesFile(routes, [
    { name: 'restarting', upstream: `http://127.0.0.1:${deadPort}`, accessKeys: ['RESTARTINGKEY'], state: 'restarting', hosts: [] },
    { name: 'unreachable', upstream: `http://127.0.0.1:${deadPort}`, accessKeys: ['UNREACHABLEKEY'], state: 'running', hosts: [] },
  ]);
  proxyPort = await getPort();
  const child = spawn(process.execPath, [CLI_SCRIPT, 'proxy', '--routes', routes, '--listen', `127.0.0.1:${proxyPort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxyPid = child.pid;
  proxyExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('proxy did not start within 10 s')), 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('proxy listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
});

afterAll(async () => {
  if (proxyPid !== undefined && isAlive(proxyPid)) {
    process.kill(proxyPid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('minio-tenants proxy', () => {
  it.each([
    ['a tenant that is restarting', 'RESTARTINGKEY'],
    ['a tenant whose server does not answer', 'UNREACHABLEKEY'],
  ])('answers %s with 503 ServiceUnavailable and Retry-After', async (_case, accessKey) => {
    const response = await fetch(`http://127.0.0.1:${proxyPort}/bucket/key`, { headers: { Authorization: sigV4(accessKey) } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.headers.get('content-type')).toBe('application/xml');
    expect(s3ErrorCode(await response.text())).toBe('ServiceUnavailable');
  });

  it('exits 0 on SIGTERM', async () => {
    process.kill(proxyPid as number, 'SIGTERM');
    expect(await proxyExit).toBe(0);
  });
});
