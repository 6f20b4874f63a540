import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { cli } from '../helpers/tenants.js';

let workspace: Workspace;

beforeAll(async () => {
  workspace = await makeWorkspace();
});

afterAll(async () => {
  await workspace.cleanup();
});

describe('tenants removed and added again', () => {
  it("rejects a data directory that still holds the old tenant's objects", async () => {
    expect((await cli(workspace, ['add', 'carol'])).exitCode).toBe(0);
    const dataDir = join(workspace.dir, 'data', 'carol');
    await mkdir(join(dataDir, 'secret-bucket'), { recursive: true });
    await writeFile(join(dataDir, 'secret-bucket', 'object'), 'carol only');
    const removed = await cli(workspace, ['remove', 'carol']);
    expect(removed.exitCode).toBe(0);
    expect(removed.stdout).toContain(`rm -r ${dataDir}`);
    const configBefore = await readFile(workspace.configFile, 'utf8');

    const again = await cli(workspace, ['add', 'carol']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`the data directory ${dataDir} already contains data`);
    expect(again.stderr).toContain('--reuse-data');
    expect(await readFile(workspace.configFile, 'utf8')).toBe(configBefore);
    expect(await readFile(join(dataDir, 'secret-bucket', 'object'), 'utf8')).toBe('carol only');

    const reused = await cli(workspace, ['add', 'carol', '--reuse-data']);
    expect(reused.exitCode, reused.stderr).toBe(0);
    expect(await readFile(join(dataDir, 'secret-bucket', 'object'), 'utf8')).toBe('carol only');
  });

  it('lets remove delete the state of a tenant deleted from tenants.yaml by hand', async () => {
    expect((await cli(workspace, ['add', 'evil'])).exitCode).toBe(0);
    const config = await readFile(workspace.configFile, 'utf8');
    await writeFile(workspace.configFile, config.replace(/^  evil:.*\n/m, ''));
    const ledgerFile = join(workspace.dir, '.minio-tenants', 'ports.json');
    expect(JSON.parse(await readFile(ledgerFile, 'utf8')).tenants.evil).toBeDefined();

    const removed = await cli(workspace, ['remove', 'evil']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(JSON.parse(await readFile(ledgerFile, 'utf8')).tenants.evil).toBeUndefined();
    const unknown = await cli(workspace, ['remove', 'evil']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('unknown tenant "evil"');
  });
});

