import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli, snapshotFiles } from './run-tenants-cli.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-creds-remove-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function add(name: string, ...args: string[]): Promise<{ accessKey: string; secretKey: string }> {
  const result = await runCli(dir, ['add', name, '--json', ...args]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const COMMENTED_CONFIG = `# Tenants of the test lab.
tenants:
  # Alice keeps her data elsewhere.
  alice:
    dataDir: alice-data # not under data/
  # Bob is the second customer.
  bob: {}
  carol:
# End of file.
`;

describe('creds', () => {
  it('prints the keys that add created', async () => {
    const added = await add('alice');

    const json = await runCli(dir, ['creds', 'alice', '--json']);
    const text = await runCli(dir, ['creds', 'alice']);

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'alice', endpoint: 'http://127.0.0.1:9000', accessKey: added.accessKey, secretKey: added.secretKey });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`access key: ${added.accessKey}`);
    expect(text.stdout).toContain(`secret key: ${added.secretKey}`);
  });

  it('uses proxy.publicUrl as endpoint', async () => {
    await writeFile(join(dir, 'tenants.yaml'), 'proxy:\n  listen: 0.0.0.0:9000\n  publicUrl: https://s3.example.com\n');
    await add('alice');
    const result = await runCli(dir, ['creds', 'alice', '--json']);
    expect(JSON.parse(result.stdout).endpoint).toBe('https://s3.example.com');
  });

  it('rejects an unknown tenant and lists the known ones', async () => {
    await add('alice');
    await add('bob');

    const result = await runCli(dir, ['creds', 'carol']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown tenant "carol"');
    expect(result.stderr).toContain('known tenants: alice, bob');
    expect(result.stdout).toBe('');
  });
});

describe('remove', () => {
  it('removes the tenant, its credentials and ports, and keeps its data', async () => {
    await add('alice');
    await add('bob');
    const dataDir = join(dir, 'data/alice');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'object'), 'payload');

    const result = await runCli(dir, ['remove', 'alice']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`kept data directory ${dataDir}`);
    expect(await readFile(join(dataDir, 'object'), 'utf8')).toBe('payload');
    expect(parseDocument(await readFile(join(dir, 'tenants.yaml'), 'utf8')).toJS()).toEqual({ tenants: { bob: {} } });
    expect(await exists(join(dir, '.minio-tenants/tenants/alice'))).toBe(false);
    expect(await exists(join(dir, '.minio-tenants/tenants/bob/credentials.json'))).toBe(true);
    const ledger = JSON.parse(await readFile(join(dir, '.minio-tenants/ports.json'), 'utf8'));
    expect(Object.keys(ledger.tenants)).toEqual(['bob']);
    expect((await runCli(dir, ['creds', 'alice'])).code).toBe(1);
  });

  it('deletes the data directory with --purge', async () => {
    await add('alice');
    await add('bob');
    await mkdir(join(dir, 'data/alice/bucket'), { recursive: true });
    await mkdir(join(dir, 'data/bob'), { recursive: true });

    const result = await runCli(dir, ['remove', 'alice', '--purge']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`deleted data directory ${join(dir, 'data/alice')}`);
    expect(await exists(join(dir, 'data/alice'))).toBe(false);
    expect(await exists(join(dir, 'data/bob'))).toBe(true);
  });

  it('keeps the comments of the other tenants', async () => {
    await writeFile(join(dir, 'tenants.yaml'), COMMENTED_CONFIG);
    await add('dave');

    const result = await runCli(dir, ['remove', 'alice']);

    expect(result.code).toBe(0);
    const text = await readFile(join(dir, 'tenants.yaml'), 'utf8');
    for (const comment of ['# Tenants of the test lab.', '# Bob is the second customer.', '# End of file.']) {
      expect(text).toContain(comment);
    }
    expect(text).not.toContain('Alice keeps');
    expect(text).not.toContain('not under data/');
    expect(Object.keys(parseDocument(text).toJS().tenants)).toEqual(['bob', 'carol', 'dave']);
  });

  it('purges a tenant with its own dataDir', async () => {
    await writeFile(join(dir, 'tenants.yaml'), COMMENTED_CONFIG);
    await mkdir(join(dir, 'alice-data'), { recursive: true });

    const result = await runCli(dir, ['remove', 'alice', '--purge']);

    expect(result.code).toBe(0);
    expect(await exists(join(dir, 'alice-data'))).toBe(false);
  });

  const unsafe: { title: string; dataDir: string }[] = [
    { title: 'the config directory', dataDir: '.' },
    { title: 'a parent of the config directory', dataDir: '..' },
    { title: 'the root directory', dataDir: '/' },
    { title: 'the state directory', dataDir: '.minio-tenants' },
    { title: 'the shared data directory', dataDir: 'data' },
    // Written as an absolute path, which the configuration check (comparing paths as
    // written) does not catch, so the purge guard must.
    { title: "another tenant's data", dataDir: '<dir>/data/bob' },
  ];

  it.each(unsafe)('refuses to purge $title and changes nothing', async ({ dataDir }) => {
    await writeFile(join(dir, 'tenants.yaml'), `tenants:\n  bob: {}\n  mallory:\n    dataDir: ${dataDir.replace('<dir>', dir)}\n`);
    await mkdir(join(dir, 'data/bob'), { recursive: true });
    await writeFile(join(dir, 'data/bob/object'), 'keep me');
    const before = await snapshotFiles(dir);

    const result = await runCli(dir, ['remove', 'mallory', '--purge']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not deleting the data directory');
    expect(result.stderr).toContain('nothing was changed');
    expect(await snapshotFiles(dir)).toEqual(before);
  });

  it('rejects an unknown tenant and changes nothing', async () => {
    await add('alice');
    const before = await snapshotFiles(dir);

    const result = await runCli(dir, ['remove', 'zed']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown tenant "zed"');
    expect(result.stderr).toContain('known tenants: alice');
    expect(await snapshotFiles(dir)).toEqual(before);
  });
});
