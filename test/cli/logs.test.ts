import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_SCRIPT, makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
let logsDir: string;
let aliceLog: string;

/** `line 1\n` … `line <count>\n` */
function numberedLines(from: number, to: number): string {
  const lines: string[] = [];
  for (let number = from; number <= to; number += 1) {
    lines.push(`line ${number}\n`);
  }
  return lines.join('');
}

beforeAll(async () => {
  ws = await makeWorkspace();
  for (const name of ['alice', 'bob']) {
    const added = await runCli(['--config', ws.configFile, 'add', name], { cwd: ws.dir });
    expect(added.exitCode, added.stderr).toBe(0);
  }
  logsDir = join(ws.dir, '.minio-tenants', 'logs');
  aliceLog = join(logsDir, 'alice.log');
  await mkdir(logsDir, { recursive: true });
  await writeFile(aliceLog, numberedLines(1, 120));
});

afterAll(async () => {
  await ws.cleanup();
});

function logs(...args: string[]): ReturnType<typeof runCli> {
  return runCli(['--config', ws.configFile, 'logs', ...args], { cwd: ws.dir });
}

describe('logs', () => {
  it('prints the last 50 lines by default', async () => {
    const result = await logs('alice');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(`${result.stdout}\n`).toBe(numberedLines(71, 120));
  });

  it('prints the count given by -n and --lines', async () => {
    const short = await logs('alice', '-n', '3');
    expect(short.exitCode).toBe(0);
    expect(`${short.stdout}\n`).toBe(numberedLines(118, 120));

    const long = await logs('alice', '--lines', '500');
    expect(long.exitCode).toBe(0);
    expect(`${long.stdout}\n`).toBe(numberedLines(1, 120));

    const none = await logs('alice', '-n', '0');
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toBe('');
  });

  it('rejects a line count that is not a number', async () => {
    const result = await logs('alice', '-n', 'ten');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('--lines must be a non-negative integer, got "ten"');
  });

  it('prints the supervisor log', async () => {
    await writeFile(join(logsDir, 'supervisor.log'), '{"msg":"supervisor started"}\n');
    const result = await logs('supervisor');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('{"msg":"supervisor started"}');
  });

  it('lists known tenants for an unknown one', async () => {
    const result = await logs('carol');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('unknown tenant "carol"');
    expect(result.stderr).toContain('known tenants: alice, bob');
  });

  it('says a tenant without a log has not run yet', async () => {
    const result = await logs('bob');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('tenant bob has no log yet');
    expect(result.stderr).toContain('has not run yet');
    expect(result.stderr).toContain('minio-tenants up');
  });
});

describe('logs --follow', () => {
  let follower: ChildProcess | undefined;

  afterEach(() => {
    if (follower?.pid !== undefined && follower.exitCode === null && follower.signalCode === null) {
      process.kill(follower.pid, 'SIGKILL');
    }
    follower = undefined;
  });

  it('prints appended lines across a truncation until SIGINT', async () => {
    const followed = join(logsDir, 'alice.log');
    await writeFile(followed, numberedLines(1, 5));
    follower = spawn(process.execPath, [CLI_SCRIPT, '--config', ws.configFile, 'logs', 'alice', '-f', '-n', '2'], {
      cwd: ws.dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    follower.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    follower.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

    await waitUntil(() => stdout.includes('line 5\n'));
    expect(stdout).toBe(numberedLines(4, 5));

    await appendFile(followed, numberedLines(6, 8));
    await waitUntil(() => stdout.includes('line 8\n'));
    expect(stdout).toBe(numberedLines(4, 8));

    // Copy-then-truncate rotation: the file shrinks and the writer continues at offset 0.
    // The new content is shorter than the old, so the follower detects that the file shrank.
    await truncate(followed, 0);
    await appendFile(followed, 'after rotation 1\n');
    await waitUntil(() => stdout.includes('after rotation 1\n'));
    expect(stdout).toBe(`${numberedLines(4, 8)}after rotation 1\n`);

    const exited = once(follower, 'exit');
    process.kill(follower.pid as number, 'SIGINT');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect(stderr).toBe('');
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });
});

/** Polls `condition` up to 1000 times, 10 ms apart; a bound on the wait, not a timing assertion. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 1000 && !condition(); attempt += 1) {
    await sleep(10);
  }
}

