import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, waitForExit } from '../../src/supervisor/process-info.js';
import { CLI_SCRIPT, makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

const README = resolve(import.meta.dirname, '../../README.md');

/** Returns the shell block that follows `<!-- marker -->` in the README. */
async function readmeBlock(marker: string): Promise<string> {
  const text = await readFile(README, 'utf8');
  const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`sh\\n([^\`]*)\`\`\``).exec(text);
  if (match === null) {
    throw new Error(`README.md has no sh block after <!-- ${marker} -->`);
  }
  return (match[1] as string).trim();
}

let workspace: Workspace;
const startedPids: number[] = [];

beforeAll(async () => {
  workspace = await makeWorkspace();
});

afterAll(async () => {
  for (const pid of startedPids) {
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
    }
  }
  await workspace.cleanup();
});

describe('README', () => {
  it('names npm test as the test command, which .ci/run calls', async () => {
    expect(await readmeBlock('test-command')).toBe('npm test');
    const ci = await readFile(resolve(import.meta.dirname, '../../.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
  });

  it('quickstart adds two tenants and serves them until Ctrl-C', async () => {
    // The quickstart's npm ci already ran for this checkout; the rest runs as written,
    // with `npx minio-tenants` pointing at the built CLI and the workspace's config.
    const steps = (await readmeBlock('quickstart')).split('&&').map((step) => step.trim());
    expect(steps[0]).toBe('npm ci');
    const cliSteps = steps.slice(1).map((step) => {
      expect(step.startsWith('npx minio-tenants ')).toBe(true);
      return step.slice('npx minio-tenants '.length).split(/\s+/);
    });
    const last = cliSteps.pop();
    expect(last).toEqual(['up']);

    const keys = new Map<string, { accessKey: string; secretKey: string }>();
    for (const args of cliSteps) {
      const result = await runCli(['--config', workspace.configFile, ...args], { cwd: workspace.dir });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/access key/i);
      const name = args[1] as string;
      const creds = await runCli(['--config', workspace.configFile, 'creds', name, '--json'], { cwd: workspace.dir });
      keys.set(name, JSON.parse(creds.stdout) as { accessKey: string; secretKey: string });
    }
    expect([...keys.keys()]).toEqual(['alice', 'bob']);

    const up = spawn(process.execPath, [CLI_SCRIPT, '--config', workspace.configFile, 'up'], {
      cwd: workspace.dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    startedPids.push(up.pid as number);
    let output = '';
    up.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    up.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolveExit) => up.on('exit', (code) => resolveExit(code)));

    const deadline = Date.now() + 30_000;
    while (!output.includes('press Ctrl-C to stop') && Date.now() < deadline && up.exitCode === null) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    expect(output).toContain('press Ctrl-C to stop');
    expect(output).toMatch(/ready\s+alice/);
    expect(output).toMatch(/ready\s+bob/);

    const status = JSON.parse((await runCli(['--config', workspace.configFile, 'status', '--json'], { cwd: workspace.dir })).stdout) as {
      tenants: Array<{ pid: number }>;
    };
    const serverPids = status.tenants.map((row) => row.pid);
    startedPids.push(...serverPids);

    const alice = keys.get('alice') as { accessKey: string; secretKey: string };
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${workspace.proxyPort}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: alice.accessKey, secretAccessKey: alice.secretKey },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
    await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'cat.jpg', Body: 'meow' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'photos', Key: 'cat.jpg' }));
    expect(await got.Body?.transformToString()).toBe('meow');
    s3.destroy();

    up.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('SIGINT: stopping the proxy and every server');
    expect(output).toMatch(/stopped\n$/);
    for (const pid of serverPids) {
      expect(await waitForExit(pid, 5_000), `server pid ${pid}`).toBe(true);
    }
  });
});
