import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { PidTracker, addTenants, cli, s3ClientFor, statusOf } from '../helpers/tenants.js';

const MAX_BYTES = 4 * 1024;
let workspace: Workspace | undefined;
const pids = new PidTracker();

afterAll(async () => {
  await pids.cleanup(workspace);
  await workspace?.cleanup();
}, 60_000);

describe('supervisor log rotation', () => {
  it('keeps each server log under its size bound while the server logs', async () => {
    workspace = await makeWorkspace(['server:', '  env:', "    MINIO_DEV_LOG_REQUESTS: '1'", 'logs:', '  maxSize: 4KiB', '  keep: 2'].join('\n'));
    const tenants = await addTenants(workspace, ['alice']);
    expect((await cli(workspace, ['up', '--detach'])).exitCode).toBe(0);
    pids.remember(await statusOf(workspace));

    // About 100 requests a second, so that one rotation interval (1 s) writes far less
    // than the bound: each request adds one line of about 30 bytes to alice's log.
    const s3 = s3ClientFor(workspace, tenants.get('alice')!);
    await s3.send(new CreateBucketCommand({ Bucket: 'noisy' }));
    for (let i = 0; i < 500; i += 1) {
      await s3.send(new HeadBucketCommand({ Bucket: 'noisy' }));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    s3.destroy();
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const logs = join(workspace.dir, '.minio-tenants', 'logs');
    const files = (await readdir(logs)).filter((name) => name.startsWith('alice.log')).sort();
    expect(files).toEqual(['alice.log', 'alice.log.1', 'alice.log.2']);
    for (const file of files) {
      const { size } = await stat(join(logs, file));
      expect(size, file).toBeLessThanOrEqual(2 * MAX_BYTES);
    }
    expect((await stat(join(logs, 'alice.log'))).size).toBeLessThanOrEqual(MAX_BYTES);
  });
});
