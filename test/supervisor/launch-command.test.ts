import { describe, expect, it } from 'vitest';
import { buildLaunchCommand, type LaunchInput } from '../../src/supervisor/launch-command.js';
import type { Engine } from '../../src/supervisor/engine.js';

const legacy: Engine = { kind: 'minio', file: '/usr/bin/minio', prefixArgs: [], flavor: 'legacy', version: '' };
const current: Engine = { ...legacy, flavor: 'current' };

function input(engine: Engine, overrides: Partial<LaunchInput> = {}): LaunchInput {
  return {
    engine,
    extraArgs: [],
    extraEnv: {},
    configDir: '/state/tenants/alice/config',
    dataDir: '/data/alice',
    port: 9001,
    consolePort: 9002,
    accessKey: 'ALICEKEY',
    secretKey: 'alice-secret-value',
    baseEnv: { PATH: '/usr/bin' },
    ...overrides,
  };
}

describe('buildLaunchCommand', () => {
  it('starts a legacy release with --config-dir and MINIO_ACCESS_KEY', () => {
    const command = buildLaunchCommand(input(legacy));
    expect(command.args).toEqual(['--config-dir', '/state/tenants/alice/config', 'server', '--address', '127.0.0.1:9001', '/data/alice']);
    expect(command.env.MINIO_ACCESS_KEY).toBe('ALICEKEY');
    expect(command.env.MINIO_SECRET_KEY).toBe('alice-secret-value');
    expect(command.env.MINIO_ROOT_USER).toBeUndefined();
  });

  it('gives a current release a fixed console address and MINIO_ROOT_USER', () => {
    const command = buildLaunchCommand(input(current));
    expect(command.args).toEqual([
      '--config-dir',
      '/state/tenants/alice/config',
      'server',
      '--address',
      '127.0.0.1:9001',
      '--console-address',
      '127.0.0.1:9002',
      '/data/alice',
    ]);
    expect(command.env.MINIO_ROOT_USER).toBe('ALICEKEY');
    expect(command.env.MINIO_ROOT_PASSWORD).toBe('alice-secret-value');
    expect(command.env.MINIO_ACCESS_KEY).toBeUndefined();
  });

  it('never puts a secret in the arguments', () => {
    for (const engine of [legacy, current]) {
      const command = buildLaunchCommand(input(engine));
      expect(command.args.join(' ')).not.toContain('alice-secret-value');
    }
  });

  it('drops credential variables inherited from the shell', () => {
    const command = buildLaunchCommand(
      input(current, { baseEnv: { PATH: '/usr/bin', MINIO_ACCESS_KEY: 'SHELLKEY', MINIO_SECRET_KEY: 'shell-secret' } }),
    );
    expect(command.env.MINIO_ACCESS_KEY).toBeUndefined();
    expect(command.env.MINIO_SECRET_KEY).toBeUndefined();
    expect(command.env.PATH).toBe('/usr/bin');
  });

  it('adds server.args before the data dir and lets credentials win over server.env', () => {
    const command = buildLaunchCommand(
      input(current, { extraArgs: ['--quiet'], extraEnv: { MINIO_ROOT_USER: 'OTHER', MINIO_BROWSER: 'off' } }),
    );
    expect(command.args.slice(-2)).toEqual(['--quiet', '/data/alice']);
    expect(command.env.MINIO_ROOT_USER).toBe('ALICEKEY');
    expect(command.env.MINIO_BROWSER).toBe('off');
  });

  it('puts the development server script first', () => {
    const dev: Engine = { kind: 'development', file: '/usr/bin/node', prefixArgs: ['/app/bin/minio-dev-server.js'], flavor: 'current', version: '' };
    const command = buildLaunchCommand(input(dev));
    expect(command.file).toBe('/usr/bin/node');
    expect(command.args[0]).toBe('/app/bin/minio-dev-server.js');
    expect(command.args[1]).toBe('--config-dir');
  });
});
