import { spawn } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { isServerOfStateDir, listProcesses, servesDataDir } from '../../src/supervisor/orphans.js';
import { statePaths } from '../../src/state/paths.js';
import { isAlive } from '../../src/supervisor/process-info.js';
import { CLI_SCRIPT, makeWorkspace, type Workspace } from '../helpers/cli.js';
import { PidTracker, addTenants, cli, rowOf, s3ClientFor, statusOf, supervisorLog, waitForStatus } from '../helpers/tenants.js';

const workspaces: Workspace[] = [];
const trackers = new Map<Workspace, PidTracker>();
let blocker: Server | undefined;

async function setUp(extraYaml = ''): Promise<{ ws: Workspace; pids: PidTracker }> {
  const ws = await makeWorkspace(extraYaml);
  const pids = new PidTracker();
  workspaces.push(ws);
  trackers.set(ws, pids);
  return { ws, pids };
}

afterEach(async () => {
  for (const ws of workspaces.splice(0)) {
    await trackers.get(ws)?.cleanup(ws);
    await ws.cleanup();
  }
  await new Promise((resolve) => (blocker === undefined ? resolve(undefined) : blocker.close(resolve)));
  blocker = undefined;
}, 60_000);

describe('supervisor with live changes', () => {
  it('stops the servers of a supervisor killed with SIGKILL and keeps ports and objects', async () => {
    const { ws, pids } = await setUp();
    const tenants = await addTenants(ws, ['alice', 'bob']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);
    const s3 = s3ClientFor(ws, tenants.get('alice')!);
    await s3.send(new CreateBucketCommand({ Bucket: 'survives' }));
    await s3.send(new PutObjectCommand({ Bucket: 'survives', Key: 'a', Body: 'kept' }));

    process.kill(before.supervisor.pid!, 'SIGKILL');
    const oldServerPids = before.tenants.map((row) => row.pid!);
    // The servers outlive their supervisor: this is the orphan case that up must handle.
    expect(oldServerPids.every((pid) => isAlive(pid))).toBe(true);

    const up = await cli(ws, ['up', '--detach']);
    expect(up.exitCode, up.stderr).toBe(0);
    const after = await statusOf(ws);
    pids.remember(after);
    for (const pid of oldServerPids) {
      expect(isAlive(pid), `old server ${pid}`).toBe(false);
    }
    for (const name of ['alice', 'bob']) {
      expect(rowOf(after, name).state).toBe('running');
      expect(rowOf(after, name).port).toBe(rowOf(before, name).port);
      const dataDir = join(ws.dir, 'data', name);
      const servers = (await listProcesses()).filter((candidate) => servesDataDir(candidate.argv, dataDir));
      expect(servers.map((server) => server.pid)).toEqual([rowOf(after, name).pid]);
    }
    const log = await supervisorLog(ws);
    expect(log.filter((line) => line.msg === 'stopping server left running by a previous supervisor')).toHaveLength(2);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'survives' }));
    expect(listed.Contents?.map((entry) => entry.Key)).toEqual(['a']);
    s3.destroy();
  });

  it('moves a tenant whose port another program took before up', async () => {
    const { ws, pids } = await setUp();
    const tenants = await addTenants(ws, ['alice', 'bob']);
    const takenPort = tenants.get('alice')!.port;
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(takenPort, '127.0.0.1', resolve));

    const up = await cli(ws, ['up', '--detach']);
    expect(up.exitCode).toBe(0);
    const status = await statusOf(ws);
    pids.remember(status);
    const moved = rowOf(status, 'alice');
    expect(up.stdout).toContain(`alice (server 127.0.0.1:${moved.port}; moved from port ${takenPort}, which another program uses)`);
    expect(moved.state).toBe('running');
    expect(moved.port).not.toBe(takenPort);
    expect(rowOf(status, 'bob').port).toBe(tenants.get('bob')!.port);

    const routes = JSON.parse(await readFile(join(ws.dir, '.minio-tenants', 'routes.json'), 'utf8')) as { tenants: Array<{ name: string; upstream: string }> };
    expect(routes.tenants.find((route) => route.name === 'alice')?.upstream).toBe(`http://127.0.0.1:${moved.port}`);
    const ledger = JSON.parse(await readFile(join(ws.dir, '.minio-tenants', 'ports.json'), 'utf8')) as { tenants: Record<string, { port: number }> };
    expect(ledger.tenants.alice?.port).toBe(moved.port);
    const log = await supervisorLog(ws);
    expect(log.some((line) => line.msg === 'port in use by another program; tenant moved to a new port' && line.fromPort === takenPort && line.toPort === moved.port)).toBe(true);

    const s3 = s3ClientFor(ws, tenants.get('alice')!);
    await s3.send(new CreateBucketCommand({ Bucket: 'reachable' }));
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((bucket) => bucket.Name)).toEqual(['reachable']);
    s3.destroy();
  });

  it('applies add, remove, reload and restart without restarting other tenants', async () => {
    const { ws, pids } = await setUp();
    const tenants = await addTenants(ws, ['alice', 'bob']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);
    const alicePid = rowOf(before, 'alice').pid;
    const bobPid = rowOf(before, 'bob').pid!;

    const added = await cli(ws, ['add', 'carol', '--json']);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stderr).toContain('running supervisor: started carol');
    const carol = JSON.parse(added.stdout) as { accessKey: string; secretKey: string; name: string; endpoint: string; port: number };
    const withCarol = await statusOf(ws);
    pids.remember(withCarol);
    expect(rowOf(withCarol, 'carol').state).toBe('running');
    expect(rowOf(withCarol, 'alice').pid).toBe(alicePid);
    expect(rowOf(withCarol, 'bob').pid).toBe(bobPid);
    const s3 = s3ClientFor(ws, carol);
    await s3.send(new CreateBucketCommand({ Bucket: 'carols' }));
    s3.destroy();

    const removed = await cli(ws, ['remove', 'bob']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    const withoutBob = await statusOf(ws);
    expect(withoutBob.tenants.map((row) => row.name)).toEqual(['alice', 'carol']);
    expect(isAlive(bobPid)).toBe(false);
    expect(rowOf(withoutBob, 'alice').pid).toBe(alicePid);
    expect(rowOf(withoutBob, 'carol').pid).toBe(rowOf(withCarol, 'carol').pid);
    const bobClient = s3ClientFor(ws, tenants.get('bob')!);
    await expect(bobClient.send(new ListBucketsCommand({}))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    bobClient.destroy();

    // A tenant written into tenants.yaml by hand gets ports and credentials on reload.
    await appendFile(ws.configFile, '  dave:\n');
    const reload = await cli(ws, ['reload', '--json']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect(JSON.parse(reload.stdout)).toMatchObject({ added: ['dave'], removed: [], restarted: [] });
    const withDave = await statusOf(ws);
    pids.remember(withDave);
    expect(rowOf(withDave, 'dave').state).toBe('running');
    expect((await cli(ws, ['creds', 'dave', '--json'])).exitCode).toBe(0);
    expect(rowOf(withDave, 'alice').pid).toBe(alicePid);

    const restart = await cli(ws, ['restart', 'alice']);
    expect(restart.exitCode, restart.stderr).toBe(0);
    const restarted = await statusOf(ws);
    pids.remember(restarted);
    expect(rowOf(restarted, 'alice').pid).not.toBe(alicePid);
    expect(rowOf(restarted, 'carol').pid).toBe(rowOf(withCarol, 'carol').pid);
    expect(rowOf(restarted, 'dave').pid).toBe(rowOf(withDave, 'dave').pid);
  });

  it('reloads tenants.yaml on SIGHUP', async () => {
    const { ws, pids } = await setUp();
    await addTenants(ws, ['alice']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);
    await appendFile(ws.configFile, '  erin:\n');
    process.kill(before.supervisor.pid!, 'SIGHUP');
    const after = await waitForStatus(ws, (status) => status.tenants.some((row) => row.name === 'erin' && row.state === 'running'));
    pids.remember(after);
    expect(rowOf(after, 'erin').state).toBe('running');
    expect(rowOf(after, 'alice').pid).toBe(rowOf(before, 'alice').pid);

    // A change of host names only rewrites the routing table.
    await appendFile(ws.configFile, '    hosts: [erin.s3.example.com]\n');
    const reload = await cli(ws, ['reload', '--json']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect(JSON.parse(reload.stdout)).toMatchObject({ added: [], restarted: [], updated: ['erin'], unchanged: ['alice'] });
    const routes = JSON.parse(await readFile(join(ws.dir, '.minio-tenants', 'routes.json'), 'utf8')) as { tenants: Array<{ name: string; hosts: string[] }> };
    expect(routes.tenants.find((route) => route.name === 'erin')?.hosts).toEqual(['erin.s3.example.com']);
    expect(rowOf(await statusOf(ws), 'erin').pid).toBe(rowOf(after, 'erin').pid);
  });

  it('refuses to run a second server on a data directory another supervisor uses', async () => {
    const first = await setUp();
    await addTenants(first.ws, ['alice']);
    expect((await cli(first.ws, ['up', '--detach'])).exitCode).toBe(0);
    first.pids.remember(await statusOf(first.ws));

    const sharedDir = join(first.ws.dir, 'data', 'alice');
    const second = await setUp(`tenants:\n  intruder:\n    dataDir: ${sharedDir}\n`);
    const up = await cli(second.ws, ['up', '--detach']);
    expect(up.exitCode).toBe(1);
    const status = await statusOf(second.ws);
    second.pids.remember(status);
    expect(rowOf(status, 'intruder').state).toBe('failed');
    expect(rowOf(status, 'intruder').error).toMatch(/in use/);
    const servers = (await listProcesses()).filter((candidate) => servesDataDir(candidate.argv, sharedDir));
    expect(servers).toHaveLength(1);
  });

  it('stops and shows a supervisor while tenants.yaml is invalid', async () => {
    const { ws, pids } = await setUp();
    await addTenants(ws, ['alice']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);

    await appendFile(ws.configFile, '  zed:\n\tport: 9700\n');
    const status = await cli(ws, ['status', '--json']);
    expect(status.exitCode).toBe(0);
    expect(status.stderr).toMatch(/invalid YAML/);
    const report = JSON.parse(status.stdout) as { supervisor: { running: boolean }; tenants: Array<{ name: string; state: string; pid: number }> };
    expect(report.supervisor.running).toBe(true);
    expect(report.tenants.map((row) => [row.name, row.state, row.pid])).toEqual([['alice', 'running', rowOf(before, 'alice').pid]]);
    const logs = await cli(ws, ['logs', 'supervisor', '-n', '1']);
    expect(logs.exitCode).toBe(0);

    const down = await cli(ws, ['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(isAlive(before.supervisor.pid!)).toBe(false);
    expect(isAlive(rowOf(before, 'alice').pid!)).toBe(false);
  });

  it('shows and stops servers left by a supervisor killed with SIGKILL', async () => {
    const { ws, pids } = await setUp();
    await addTenants(ws, ['alice', 'bob']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    const before = await statusOf(ws);
    pids.remember(before);
    process.kill(before.supervisor.pid!, 'SIGKILL');
    const serverPids = before.tenants.map((row) => row.pid!).sort();

    const status = await cli(ws, ['status', '--json']);
    const report = JSON.parse(status.stdout) as { supervisor: { running: boolean }; leftoverServers: number[] };
    expect(report.supervisor.running).toBe(false);
    expect([...report.leftoverServers].sort()).toEqual(serverPids);
    expect((await cli(ws, ['status'])).stdout).toContain('run without a supervisor');

    const down = await cli(ws, ['down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped 2 server(s) left by one that died');
    for (const pid of serverPids) {
      expect(isAlive(pid), `server ${pid}`).toBe(false);
    }
  });

  it('reports a tenant that add could not start', async () => {
    const { ws, pids } = await setUp();
    await addTenants(ws, ['alice']);
    expect((await cli(ws, ['up', '--detach'])).exitCode).toBe(0);
    pids.remember(await statusOf(ws));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as { port: number }).port;

    const added = await cli(ws, ['add', 'held', '--port', String(takenPort)]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain('The running supervisor starts its server now.');
    expect(added.stderr).toContain(`tenant held did not start: port ${takenPort} of tenant held is in use by another program`);
    expect(added.stderr).not.toContain('started held');
    const status = await statusOf(ws);
    expect(rowOf(status, 'held').state).toBe('failed');
  });

  it('stops every server when Ctrl-C arrives during start-up', async () => {
    const { ws, pids } = await setUp();
    await addTenants(ws, ['alice', 'bob', 'carol']);
    const up = spawn(process.execPath, [CLI_SCRIPT, '--config', ws.configFile, 'up'], { cwd: ws.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    pids.add(up.pid!);
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    let output = '';
    up.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    up.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

    // Interrupt as soon as the servers are being spawned, before all are ready.
    const deadline = Date.now() + 20_000;
    const paths = statePaths(join(ws.dir, '.minio-tenants'));
    while (Date.now() < deadline && (await listProcesses()).every((candidate) => !isServerOfStateDir(candidate.argv, paths))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    up.kill('SIGINT');

    expect(await exited, output).toBe(0);
    expect(output).toContain('SIGINT: stopping the proxy and every server');
    const left = (await listProcesses()).filter((candidate) => isServerOfStateDir(candidate.argv, paths));
    expect(left.map((candidate) => candidate.pid)).toEqual([]);
  });
});

