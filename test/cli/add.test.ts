import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { runCli, snapshotFiles } from './run-tenants-cli.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-add-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface AddJson {
  name: string;
  accessKey: string;
  secretKey: string;
  endpoint: string;
  port: number;
}

async function addJson(...args: string[]): Promise<AddJson> {
  const result = await runCli(dir, ['add', ...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as AddJson;
}

async function readLedger(): Promise<{ version: number; tenants: Record<string, { port: number; consolePort: number }> }> {
  return JSON.parse(await readFile(join(dir, '.minio-tenants/ports.json'), 'utf8'));
}

const COMMENTED_CONFIG = `# Our tenants, one MinIO each.

proxy:
  listen: 127.0.0.1:9000 # local only

tenants:
  # The first customer.
  first: {}
# End of file.
`;

describe('add', () => {
  it('creates tenants.yaml and prints the tenant as JSON', async () => {
    const added = await addJson('alice');

    expect(Object.keys(added).sort()).toEqual(['accessKey', 'endpoint', 'name', 'port', 'secretKey']);
    expect(added.name).toBe('alice');
    expect(added.endpoint).toBe('http://127.0.0.1:9000');
    expect(added.accessKey).toMatch(/^[A-Z0-9]{20}$/);
    expect(added.secretKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(added.port).toBeGreaterThanOrEqual(9001);
    expect(added.port).toBeLessThanOrEqual(9999);

    const config = await readFile(join(dir, 'tenants.yaml'), 'utf8');
    expect(config).toMatch(/^# minio-tenants configuration/);
    expect(parseDocument(config).toJS()).toEqual({ tenants: { alice: {} } });
  });

  it('stores credentials with mode 0600 and ports in the ledger', async () => {
    const added = await addJson('alice');
    const credentialsFile = join(dir, '.minio-tenants/tenants/alice/credentials.json');

    expect((await stat(credentialsFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.minio-tenants'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(credentialsFile, 'utf8'))).toEqual({ accessKey: added.accessKey, secretKey: added.secretKey });
    const ledger = await readLedger();
    expect(ledger.version).toBe(1);
    expect(ledger.tenants.alice?.port).toBe(added.port);
    expect(ledger.tenants.alice?.consolePort).not.toBe(added.port);
  });

  it('prints endpoint and keys as text', async () => {
    const result = await runCli(dir, ['add', 'alice']);
    expect(result.code).toBe(0);
    const credentials = JSON.parse(await readFile(join(dir, '.minio-tenants/tenants/alice/credentials.json'), 'utf8'));
    expect(result.stdout).toContain('endpoint:   http://127.0.0.1:9000');
    expect(result.stdout).toContain(`access key: ${credentials.accessKey}`);
    expect(result.stdout).toContain(`secret key: ${credentials.secretKey}`);
  });

  it('writes --port to tenants.yaml and still reserves a console port', async () => {
    const added = await addJson('alice', '--port', '9500');

    expect(added.port).toBe(9500);
    expect(parseDocument(await readFile(join(dir, 'tenants.yaml'), 'utf8')).toJS()).toEqual({ tenants: { alice: { port: 9500 } } });
    const consolePort = (await readLedger()).tenants.alice?.consolePort;
    expect(consolePort).toBeGreaterThanOrEqual(9001);
    expect(consolePort).not.toBe(9500);
  });

  it('skips fixed ports, reserved ports and the proxy port', async () => {
    await writeFile(join(dir, 'tenants.yaml'), 'proxy:\n  listen: 127.0.0.1:9001\nports:\n  from: 9001\n  to: 9010\ntenants:\n  fixed:\n    port: 9002\n');
    const first = await addJson('first');
    const second = await addJson('second');
    const ledger = await readLedger();

    const used = [9001, 9002, first.port, ledger.tenants.first?.consolePort, second.port, ledger.tenants.second?.consolePort];
    expect(new Set(used).size).toBe(used.length);
    for (const port of used) {
      expect(port).toBeGreaterThanOrEqual(9001);
      expect(port).toBeLessThanOrEqual(9010);
    }
  });

  it('accepts given keys, the secret from standard input', async () => {
    const fromArgs = await addJson('alice', '--access-key', 'ALICEKEY', '--secret-key', 'alice-secret-1');
    expect(fromArgs.accessKey).toBe('ALICEKEY');
    expect(fromArgs.secretKey).toBe('alice-secret-1');

    const result = await runCli(dir, ['add', 'bob', '--access-key', 'BOBKEY', '--secret-key', '-', '--json'], { input: 'bob-secret-from-stdin\n' });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).secretKey).toBe('bob-secret-from-stdin');
  });

  it('keeps comments of an existing tenants.yaml', async () => {
    await writeFile(join(dir, 'tenants.yaml'), COMMENTED_CONFIG);
    await addJson('alice');
    const config = await readFile(join(dir, 'tenants.yaml'), 'utf8');

    for (const comment of ['# Our tenants, one MinIO each.', '# local only', '# The first customer.', '# End of file.']) {
      expect(config).toContain(comment);
    }
    expect(config).toContain('  first: {}\n  alice: {}\n');
  });

  it('takes the file from --config over the environment', async () => {
    await runCli(dir, ['--config', 'flag.yaml', 'add', 'alice'], { env: { MINIO_TENANTS_CONFIG: 'env.yaml' } });
    await runCli(dir, ['add', 'bob'], { env: { MINIO_TENANTS_CONFIG: 'env.yaml' } });

    expect(parseDocument(await readFile(join(dir, 'flag.yaml'), 'utf8')).toJS()).toEqual({ tenants: { alice: {} } });
    expect(parseDocument(await readFile(join(dir, 'env.yaml'), 'utf8')).toJS()).toEqual({ tenants: { bob: {} } });
  });
});

describe('add rejections', () => {
  const rejected: { title: string; setup: string[][]; args: string[]; message: RegExp }[] = [
    { title: 'a duplicate name', setup: [['add', 'alice']], args: ['add', 'alice'], message: /tenant alice already exists in .*tenants\.yaml/ },
    {
      title: 'a duplicate access key',
      setup: [['add', 'alice', '--access-key', 'SHAREDKEY', '--secret-key', 'alice-secret']],
      args: ['add', 'bob', '--access-key', 'SHAREDKEY', '--secret-key', 'bob-secret-9'],
      message: /access key SHAREDKEY already belongs to tenant alice/,
    },
    { title: 'an invalid name', setup: [['add', 'alice']], args: ['add', 'Bob'], message: /invalid tenant name "Bob"/ },
    { title: 'a short access key', setup: [['add', 'alice']], args: ['add', 'bob', '--access-key', 'ab', '--secret-key', 'bob-secret-9'], message: /at least 3/ },
    { title: 'an access key with "="', setup: [['add', 'alice']], args: ['add', 'bob', '--access-key', 'a=bc', '--secret-key', 'bob-secret-9'], message: /"=" or ","/ },
    { title: 'a short secret key', setup: [['add', 'alice']], args: ['add', 'bob', '--access-key', 'BOBKEY', '--secret-key', 'short'], message: /at least 8/ },
    { title: 'only one key', setup: [['add', 'alice']], args: ['add', 'bob', '--access-key', 'BOBKEY'], message: /give both --access-key and --secret-key/ },
    { title: "another tenant's port", setup: [['add', 'alice', '--port', '9300']], args: ['add', 'bob', '--port', '9300'], message: /port 9300 is already used by tenant alice/ },
    { title: "the proxy's port", setup: [['add', 'alice']], args: ['add', 'bob', '--port', '9000'], message: /port 9000 is already used by the proxy/ },
    { title: 'a port out of range', setup: [['add', 'alice']], args: ['add', 'bob', '--port', '70000'], message: /expected an integer from 1 to 65535/ },
  ];

  it.each(rejected)('rejects $title and changes nothing', async ({ setup, args, message }) => {
    for (const step of setup) {
      expect((await runCli(dir, step)).code).toBe(0);
    }
    const before = await snapshotFiles(dir);

    const result = await runCli(dir, args);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(await snapshotFiles(dir)).toEqual(before);
  });

  it('keeps a given secret out of error messages', async () => {
    const result = await runCli(dir, ['add', 'Bad_Name', '--access-key', 'BOBKEY', '--secret-key', 'do-not-print-me']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('do-not-print-me');
  });
});

describe('add with an invalid tenants.yaml', () => {
  const invalid: { title: string; yaml: string; fragments: string[] }[] = [
    {
      title: 'an unknown key',
      yaml: '# comment\ntenants:\n  alice:\n    prot: 9001\n',
      fragments: ['tenants.yaml:4:', 'unknown key "prot" in tenants.alice', 'expected one of port, dataDir, hosts'],
    },
    { title: 'malformed YAML', yaml: 'tenants:\n  alice: [9001\n', fragments: ['tenants.yaml:3:', 'invalid YAML'] },
    { title: 'a wrong type', yaml: 'ports:\n  from: 9001\n  to: lots\n', fragments: ['tenants.yaml:3:', 'ports.to must be an integer, got the string "lots"'] },
    { title: 'a bad tenant name', yaml: 'tenants:\n  alice: {}\n  Bob_1: {}\n', fragments: ['tenants.yaml:3:', 'invalid tenant name "Bob_1"'] },
  ];

  it.each(invalid)('reports $title with file and line and changes nothing', async ({ yaml, fragments }) => {
    await writeFile(join(dir, 'tenants.yaml'), yaml);
    const before = await snapshotFiles(dir);

    const result = await runCli(dir, ['add', 'carol']);

    expect(result.code).toBe(1);
    expect(result.stderr.startsWith('error: tenants.yaml:')).toBe(true);
    for (const fragment of fragments) {
      expect(result.stderr).toContain(fragment);
    }
    expect(await snapshotFiles(dir)).toEqual(before);
  });
});

describe('add run concurrently', () => {
  it('adds twenty tenants at once with distinct ports and keys', async () => {
    await writeFile(join(dir, 'tenants.yaml'), COMMENTED_CONFIG);
    const names = Array.from({ length: 20 }, (_, index) => `tenant-${index + 1}`);

    const results = await Promise.all(names.map((name) => runCli(dir, ['add', name, '--json'])));

    for (const result of results) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
    const added = results.map((result) => JSON.parse(result.stdout) as AddJson);
    expect(new Set(added.map((tenant) => tenant.accessKey)).size).toBe(20);

    const ledger = await readLedger();
    const ports = names.flatMap((name) => [ledger.tenants[name]?.port, ledger.tenants[name]?.consolePort]);
    expect(new Set(ports).size).toBe(40);
    expect(added.map((tenant) => tenant.port).sort()).toEqual(names.map((name) => ledger.tenants[name]?.port).sort());

    const text = await readFile(join(dir, 'tenants.yaml'), 'utf8');
    const document = parseDocument(text);
    expect(document.errors).toEqual([]);
    expect(Object.keys(document.toJS().tenants).sort()).toEqual(['first', ...names].sort());
    for (const comment of ['# Our tenants, one MinIO each.', '# local only', '# The first customer.', '# End of file.']) {
      expect(text).toContain(comment);
    }
  });
});

describe('--help', () => {
  it.each([
    ['add', ['--port <port>', 'TCP port (1-65535)', '--access-key <key>', 'at least 3 characters', '--secret-key <key>', 'at least 8 characters', '--json']],
    ['creds', ['<name>', '--json']],
    ['remove', ['<name>', '--purge', 'data directory']],
  ])('of %s exits 0 and describes its options', async (command, fragments) => {
    const result = await runCli(dir, [command, '--help']);
    expect(result.code).toBe(0);
    for (const fragment of fragments) {
      expect(result.stdout).toContain(fragment);
    }
  });
});
