import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveConfigPath } from '../../src/config/load.js';

describe('resolveConfigPath', () => {
  it.each([
    ['the flag over the environment', 'flag.yaml', 'env.yaml', 'flag.yaml'],
    ['the environment without a flag', undefined, 'env.yaml', 'env.yaml'],
    ['the default without either', undefined, undefined, 'tenants.yaml'],
    ['the default for empty values', '', '', 'tenants.yaml'],
    ['an absolute flag as is', '/etc/minio/tenants.yaml', undefined, '/etc/minio/tenants.yaml'],
  ])('takes %s', (_title, flag, env, expected) => {
    expect(resolveConfigPath(flag, { MINIO_TENANTS_CONFIG: env })).toBe(resolve(expected));
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns defaults when the file is missing', async () => {
    const file = join(dir, 'tenants.yaml');
    const config = await loadConfig(file);
    expect(config).toEqual({
      file,
      exists: false,
      stateDir: join(dir, '.minio-tenants'),
      dataDir: join(dir, 'data'),
      server: { command: 'minio', args: [], env: {}, flavor: 'auto' },
      proxy: { listen: '127.0.0.1:9000', publicUrl: 'http://127.0.0.1:9000', workers: 1 },
      ports: { from: 9001, to: 9999 },
      supervisor: {
        readyTimeoutMs: 30_000,
        stopTimeoutMs: 10_000,
        healthIntervalMs: 5_000,
        unhealthyAfterMs: 15_000,
        restartDelayMs: 250,
        maxRestartDelayMs: 30_000,
        stableAfterMs: 60_000,
        maxCrashes: 5,
        crashWindowMs: 60_000,
      },
      logs: { maxBytes: 10 * 1024 * 1024, keep: 3 },
      tenants: [],
    });
  });

  it('resolves relative paths against the config directory', async () => {
    const file = join(dir, 'tenants.yaml');
    await writeFile(
      file,
      'stateDir: state\ndataDir: ../shared\nserver:\n  command: ./bin/minio\ntenants:\n  alice:\n  bob:\n    dataDir: bob-data\n    port: 9100\n',
    );
    const config = await loadConfig(file);
    expect(config.exists).toBe(true);
    expect(config.stateDir).toBe(join(dir, 'state'));
    expect(config.dataDir).toBe(resolve(dir, '../shared'));
    expect(config.server.command).toBe(join(dir, 'bin/minio'));
    expect(config.tenants).toEqual([
      { name: 'alice', dataDir: resolve(dir, '../shared/alice'), hosts: [] },
      { name: 'bob', port: 9100, dataDir: join(dir, 'bob-data'), hosts: [] },
    ]);
  });

  it.each([
    ['0.0.0.0:9000', undefined, 'http://127.0.0.1:9000'],
    ['[::]:9200', undefined, 'http://[::1]:9200'],
    ['0.0.0.0:9000', 'https://s3.example.com/', 'https://s3.example.com'],
  ])('derives publicUrl from listen %s and publicUrl %s', async (listen, publicUrl, expected) => {
    const file = join(dir, 'tenants.yaml');
    const proxy = publicUrl === undefined ? `  listen: "${listen}"\n` : `  listen: "${listen}"\n  publicUrl: ${publicUrl}\n`;
    await writeFile(file, `proxy:\n${proxy}`);
    expect((await loadConfig(file)).proxy.publicUrl).toBe(expected);
  });
});
