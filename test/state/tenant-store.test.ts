import { mkdtemp, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { statePaths } from '../../src/state/paths.js';
import { readPortLedger } from '../../src/state/ports.js';
import { addTenant, reserveMissingPorts } from '../../src/state/tenant-store.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tenant-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reserveMissingPorts', () => {
  it('reserves ports for tenants written by hand', async () => {
    const file = join(dir, 'tenants.yaml');
    await writeFile(file, 'ports: {from: 9401, to: 9420}\ntenants:\n  alice:\n  bob:\n    port: 9410\n');
    const config = await loadConfig(file);

    const ledger = await reserveMissingPorts(config);

    expect(ledger.tenants.bob?.port).toBe(9410);
    const ports = [ledger.tenants.alice?.port, ledger.tenants.alice?.consolePort, 9410, ledger.tenants.bob?.consolePort];
    expect(new Set(ports).size).toBe(4);
    expect(await readPortLedger(statePaths(config.stateDir))).toEqual(ledger);
  });

  it('keeps existing reservations', async () => {
    const file = join(dir, 'tenants.yaml');
    await writeFile(file, 'ports: {from: 9401, to: 9420}\ntenants:\n  alice:\n');
    const first = await reserveMissingPorts(await loadConfig(file));
    const second = await reserveMissingPorts(await loadConfig(file));
    expect(second).toEqual(first);
  });
});

describe('addTenant', () => {
  it('writes through a symlinked tenants.yaml', async () => {
    const target = join(dir, 'real.yaml');
    const link = join(dir, 'tenants.yaml');
    await writeFile(target, '# kept\ntenants: {}\n');
    await symlink(target, link);

    await addTenant(link, { name: 'alice' });

    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(target, 'utf8')).toContain('alice: {}');
    expect(await readFile(target, 'utf8')).toContain('# kept');
  });
});
