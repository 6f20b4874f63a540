import { readFile, writeFile } from 'node:fs/promises';
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { childPids, isRunning } from '../helpers/processes.js';
import { PidTracker, addTenants, cli, s3ClientFor, statusOf, supervisorLog } from '../helpers/tenants.js';

let workspace: Workspace | undefined;
const pids = new PidTracker();

afterEach(async () => {
  await pids.cleanup(workspace);
  await workspace?.cleanup();
  workspace = undefined;
}, 60_000);

describe('up with proxy.workers: 2', () => {
  it('serves S3 through two proxy workers and stops them on down', async () => {
    workspace = await makeWorkspace();
    const ws = workspace;
    const text = await readFile(ws.configFile, 'utf8');
    await writeFile(ws.configFile, text.replace(`  listen: 127.0.0.1:${ws.proxyPort}\n`, `  listen: 127.0.0.1:${ws.proxyPort}\n  workers: 2\n`));
    const tenants = await addTenants(ws, ['alice']);

    const up = await cli(ws, ['up', '--detach']);
    expect(up.exitCode, up.stderr).toBe(0);
    const status = await statusOf(ws);
    pids.remember(status);
    const supervisorPid = status.supervisor.pid!;
    const workers = childPids(supervisorPid, 'proxy-worker.js');
    for (const pid of workers) {
      pids.add(pid);
    }
    const s3 = s3ClientFor(ws, tenants.get('alice')!);
    await s3.send(new CreateBucketCommand({ Bucket: 'through-workers' }));
    await s3.send(new PutObjectCommand({ Bucket: 'through-workers', Key: 'k', Body: 'clustered' }));
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'through-workers', Key: 'k' }))).Body!.transformToString();
    s3.destroy();
    const down = await cli(ws, ['down']);

    expect(workers).toHaveLength(2);
    expect(body).toBe('clustered');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(isRunning(supervisorPid)).toBe(false);
    for (const pid of workers) {
      expect(isRunning(pid), `proxy worker ${pid}`).toBe(false);
    }
    const log = await supervisorLog(ws);
    const listening = log.filter((line) => line.msg === 'proxy listening');
    expect(listening.map((line) => line.worker).sort()).toEqual([1, 2]);
    expect(log.some((line) => line.msg === 'proxy started' && line.workers === 2)).toBe(true);
    expect(log.filter((line) => line.msg === 'proxy closed')).toHaveLength(2);
  });
});
