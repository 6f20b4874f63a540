import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/supervisor/process-info.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { s3ErrorCode } from '../helpers/s3-fixtures.js';
import { PidTracker, addTenants, cli, rowOf, s3ClientFor, statusOf, supervisorLog, waitForStatus } from '../helpers/tenants.js';

let workspace: Workspace | undefined;
let pids: PidTracker;

async function setUp(extraYaml: string): Promise<Workspace> {
  workspace = await makeWorkspace(extraYaml);
  pids = new PidTracker();
  return workspace;
}

afterEach(async () => {
  await pids?.cleanup(workspace);
  await workspace?.cleanup();
  workspace = undefined;
}, 60_000);

describe('supervisor on crashes', () => {
  it('restarts a server killed with SIGKILL while a client keeps reading through the proxy', async () => {
    const ws = await setUp('supervisor:\n  restartDelay: 100ms\n');
    const tenants = await addTenants(ws, ['alice', 'bob']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);

    const alice = tenants.get('alice')!;
    const s3 = s3ClientFor(ws, alice);
    await s3.send(new CreateBucketCommand({ Bucket: 'keep' }));
    for (let i = 0; i < 5; i += 1) {
      await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: `object-${i}`, Body: `payload ${i}` }));
    }
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'keep', Key: 'object-0' }), { expiresIn: 600 });

    // A client that keeps reading during the crash: bounded by count and time.
    const outcomes: Array<{ status: number; code?: string; retryAfter: string | null }> = [];
    let stop = false;
    const reader = (async () => {
      const deadline = Date.now() + 20_000;
      while (!stop && outcomes.length < 2_000 && Date.now() < deadline) {
        const response = await fetch(url);
        const body = await response.text();
        outcomes.push({ status: response.status, code: s3ErrorCode(body), retryAfter: response.headers.get('retry-after') });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedPid = rowOf(before, 'alice').pid!;
    process.kill(killedPid, 'SIGKILL');
    const after = await waitForStatus(ws, (status) => {
      const row = rowOf(status, 'alice');
      return row.state === 'running' && row.pid !== killedPid;
    });
    pids.remember(after);
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await reader;

    expect(rowOf(after, 'alice').state).toBe('running');
    expect(rowOf(after, 'alice').restarts).toBe(1);
    expect(rowOf(after, 'alice').port).toBe(rowOf(before, 'alice').port);
    expect(rowOf(after, 'bob').pid).toBe(rowOf(before, 'bob').pid);
    expect(rowOf(after, 'bob').restarts).toBe(0);

    const unexpected = outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 503);
    expect(unexpected).toEqual([]);
    const unavailable = outcomes.filter((outcome) => outcome.status === 503);
    for (const outcome of unavailable) {
      expect(outcome.code).toBe('ServiceUnavailable');
      expect(outcome.retryAfter).toMatch(/^\d+$/);
    }
    expect(outcomes.at(-1)?.status).toBe(200);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'keep' }));
    expect(listed.Contents?.map((entry) => entry.Key)).toEqual(['object-0', 'object-1', 'object-2', 'object-3', 'object-4']);
    s3.destroy();
  });

  it('marks a crash-looping server failed after the configured tries, and restart revives it', async () => {
    const faultFile = join(tmpdir(), `fault-${process.pid}-${Date.now()}`);
    const ws = await setUp(
      [
        'server:',
        '  env:',
        `    MINIO_DEV_FAULT_FILE: ${faultFile}`,
        'supervisor:',
        '  restartDelay: 100ms',
        '  maxCrashes: 3',
        '  crashWindow: 60s',
      ].join('\n'),
    );
    await writeFile(faultFile, 'exit:3\n');
    try {
      await addTenants(ws, ['alice']);
      const up = await cli(ws, ['up', '--detach']);
      expect(up.exitCode).toBe(1);
      expect(up.stderr).toMatch(/failed to start: alice/);

      const failed = await statusOf(ws);
      pids.remember(failed);
      const row = rowOf(failed, 'alice');
      expect(row.state).toBe('failed');
      expect(row.pid).toBeNull();
      expect(row.lastExit?.code).toBe(3);
      expect(row.error).toMatch(/exited 4 times within 60 s; last exit with code 3/);

      // Four starts (the first and three restarts), with delays that double from 100 ms.
      const log = await supervisorLog(ws);
      const starts = log.filter((line) => line.tenant === 'alice' && line.msg === 'server started').map((line) => line.time as number);
      const delays = log.filter((line) => line.tenant === 'alice' && line.msg === 'restarting server').map((line) => line.delayMs);
      expect(starts).toHaveLength(4);
      expect(delays).toEqual([100, 200, 400]);
      const gaps = starts.slice(1).map((time, index) => time - (starts[index] as number));
      gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(delays[index] as number));
      expect(log.some((line) => line.tenant === 'alice' && line.msg === 'server failed; not restarting')).toBe(true);

      await rm(faultFile);
      const restart = await cli(ws, ['restart', 'alice']);
      expect(restart.exitCode, restart.stderr).toBe(0);
      const revived = await statusOf(ws);
      pids.remember(revived);
      expect(rowOf(revived, 'alice').state).toBe('running');
      expect(rowOf(revived, 'alice').error).toBeNull();
    } finally {
      await rm(faultFile, { force: true });
    }
  });

  it('kills and restarts a server that stops answering health checks', async () => {
    const ws = await setUp(
      ['server:', '  env:', '    MINIO_DEV_FAULT: unhealthy-after-ms:800', 'supervisor:', '  healthInterval: 200ms', '  unhealthyAfter: 600ms', '  restartDelay: 100ms'].join('\n'),
    );
    await addTenants(ws, ['alice']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const first = await statusOf(ws);
    pids.remember(first);
    const firstPid = rowOf(first, 'alice').pid!;

    const restarted = await waitForStatus(ws, (status) => rowOf(status, 'alice').restarts >= 1 && rowOf(status, 'alice').state === 'running');
    pids.remember(restarted);
    expect(rowOf(restarted, 'alice').restarts).toBeGreaterThanOrEqual(1);
    expect(rowOf(restarted, 'alice').pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    const log = await supervisorLog(ws);
    expect(log.some((line) => line.msg === 'server failed its health checks; killing it' && line.pid === firstPid)).toBe(true);
  });

  it('counts a server that never becomes ready as a crash', async () => {
    const ws = await setUp(
      ['server:', '  env:', '    MINIO_DEV_FAULT: hang-before-ready', 'supervisor:', '  readyTimeout: 500ms', '  restartDelay: 100ms', '  maxCrashes: 1'].join('\n'),
    );
    await addTenants(ws, ['alice']);
    const up = await cli(ws, ['up', '--detach']);
    expect(up.exitCode).toBe(1);
    const status = await statusOf(ws);
    pids.remember(status);
    expect(rowOf(status, 'alice').state).toBe('failed');
    expect(rowOf(status, 'alice').lastExit?.signal).toBe('SIGKILL');
    const log = await supervisorLog(ws);
    expect(log.filter((line) => line.msg === 'server not ready in time; killing it')).toHaveLength(2);
  });
});
