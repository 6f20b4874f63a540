import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_SERVER_BIN } from '../devserver/helpers.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { PidTracker, addTenants, cli, rowOf, s3ClientFor, statusOf } from '../helpers/tenants.js';

/**
 * The real `minio` binary is not installable here, so a stand-in named `minio` prints
 * `--version` as a given MinIO release does, records the arguments and the names of the
 * MINIO_* variables it was started with, and then runs the development server with the
 * same arguments. The development server reads either pair of credential variables.
 */
async function writeStandIn(dir: string, release: string): Promise<{ command: string; record: string }> {
  const command = join(dir, 'minio');
  const record = join(dir, 'launch.json');
  const script = `#!${process.execPath}
const { writeFileSync } = require('node:fs');
const { spawn } = require('node:child_process');
if (process.argv[2] === '--version') {
  console.log('minio version RELEASE.${release} (commit-id=0000000)');
  process.exit(0);
}
const names = Object.keys(process.env).filter((name) => name.startsWith('MINIO_')).sort();
writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), env: names }));
const child = spawn(process.execPath, [${JSON.stringify(DEV_SERVER_BIN)}, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 0)));
`;
  await writeFile(command, script);
  await chmod(command, 0o755);
  return { command, record };
}

let workspace: Workspace | undefined;
let pids = new PidTracker();

afterEach(async () => {
  await pids.cleanup(workspace);
  await workspace?.cleanup();
  workspace = undefined;
  pids = new PidTracker();
}, 60_000);

describe('launching MinIO releases', () => {
  it.each([
    {
      release: '2019-10-12T01-39-57Z',
      credentials: ['MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY'],
      absent: ['MINIO_ROOT_USER', 'MINIO_ROOT_PASSWORD'],
      consoleAddress: false,
    },
    {
      release: '2024-01-16T16-07-38Z',
      credentials: ['MINIO_ROOT_PASSWORD', 'MINIO_ROOT_USER'],
      absent: ['MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY'],
      consoleAddress: true,
    },
  ])('starts RELEASE.$release with the right flags and variables', async ({ release, credentials, absent, consoleAddress }) => {
    workspace = await makeWorkspace();
    const standIn = await writeStandIn(workspace.dir, release);
    await writeFile(workspace.configFile, `${await readFile(workspace.configFile, 'utf8')}server:\n  command: ./minio\n`);
    const tenants = await addTenants(workspace, ['alice']);
    const up = await cli(workspace, ['up', '--detach']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).not.toContain('development server');
    const status = await statusOf(workspace);
    pids.remember(status);
    expect(rowOf(status, 'alice').engine).toBe('minio');

    const launch = JSON.parse(await readFile(standIn.record, 'utf8')) as { args: string[]; env: string[] };
    const port = rowOf(status, 'alice').port;
    expect(launch.args.slice(0, 5)).toEqual(['--config-dir', join(workspace.dir, '.minio-tenants', 'tenants', 'alice', 'config'), 'server', '--address', `127.0.0.1:${port}`]);
    expect(launch.args.includes('--console-address')).toBe(consoleAddress);
    expect(launch.args.at(-1)).toBe(join(workspace.dir, 'data', 'alice'));
    for (const name of credentials) {
      expect(launch.env).toContain(name);
    }
    for (const name of absent) {
      expect(launch.env).not.toContain(name);
    }
    expect(launch.args.join(' ')).not.toContain(tenants.get('alice')!.secretKey);

    const s3 = s3ClientFor(workspace, tenants.get('alice')!);
    await s3.send(new CreateBucketCommand({ Bucket: 'release-check' }));
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(['release-check']);
    s3.destroy();
  });
});
