import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyDefaults } from '../../src/config/defaults.js';
import { statePaths } from '../../src/state/paths.js';
import { choosePort, effectivePorts, emptyPortLedger, portOwner, readPortLedger, takenPorts, untakenPorts, writePortLedger } from '../../src/state/ports.js';

describe('choosePort', () => {
  const cases: { title: string; from: number; to: number; taken: number[]; busy?: number[]; expected: number | undefined }[] = [
    { title: 'the lowest port of an empty range', from: 9001, to: 9999, taken: [], expected: 9001 },
    { title: 'past taken ports', from: 9001, to: 9999, taken: [9001, 9002, 9004], expected: 9003 },
    { title: 'past busy ports', from: 9001, to: 9999, taken: [9001], busy: [9002, 9003], expected: 9004 },
    { title: 'the lowest untaken port when all are busy', from: 9001, to: 9003, taken: [9001], busy: [9002, 9003], expected: 9002 },
    { title: 'nothing when all are taken', from: 9001, to: 9003, taken: [9001, 9002, 9003], expected: undefined },
    { title: 'a one-port range', from: 9500, to: 9500, taken: [], expected: 9500 },
    { title: 'nothing from a reversed range', from: 9500, to: 9400, taken: [], expected: undefined },
  ];

  it.each(cases)('returns $title', ({ from, to, taken, busy = [], expected }) => {
    const isFree = (port: number): boolean => !busy.includes(port);
    expect(choosePort({ from, to }, new Set(taken), isFree)).toBe(expected);
  });

  it('lists untaken ports in order up to the limit', () => {
    expect(untakenPorts({ from: 1, to: 10 }, new Set([2, 3, 5]), 4)).toEqual([1, 4, 6, 7]);
  });
});

describe('takenPorts', () => {
  const config = applyDefaults(
    { proxy: { listen: '127.0.0.1:9050' }, tenants: { alice: { port: 9100 }, bob: null, carol: null } },
    '/srv/tenants.yaml',
    true,
  );
  const ledger = {
    version: 1 as const,
    tenants: { alice: { port: 9100, consolePort: 9001 }, bob: { port: 9002, consolePort: 9003 } },
  };

  it('includes ledger ports, fixed ports and the proxy port', () => {
    expect([...takenPorts(config, ledger)].sort()).toEqual([9001, 9002, 9003, 9050, 9100]);
  });

  it('leaves out the ports of the tenant being assigned', () => {
    expect([...takenPorts(config, ledger, 'bob')].sort()).toEqual([9001, 9050, 9100]);
  });

  it('names the owner of a port', () => {
    expect(portOwner(config, ledger, 9050)).toBe('the proxy');
    expect(portOwner(config, ledger, 9003)).toBe('tenant bob');
    expect(portOwner(config, ledger, 9100)).toBe('tenant alice');
    expect(portOwner(config, ledger, 9004)).toBeUndefined();
    expect(portOwner(config, ledger, 9100, 'alice')).toBeUndefined();
    expect(portOwner(config, ledger, 9003, 'bob')).toBeUndefined();
  });

  it('prefers the fixed port of tenants.yaml over the ledger', () => {
    const moved = { version: 1 as const, tenants: { alice: { port: 9010, consolePort: 9011 } } };
    expect(effectivePorts(config, moved, 'alice')).toEqual({ port: 9100, consolePort: 9011 });
    expect(effectivePorts(config, moved, 'bob')).toBeUndefined();
  });
});

describe('port ledger file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ports-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a missing ledger as empty', async () => {
    expect(await readPortLedger(statePaths(dir))).toEqual(emptyPortLedger());
  });

  it('round-trips the documented format', async () => {
    const paths = statePaths(join(dir, 'state'));
    await writePortLedger(paths, { version: 1, tenants: { bob: { port: 9003, consolePort: 9004 }, alice: { port: 9001, consolePort: 9002 } } });
    expect(await readPortLedger(paths)).toEqual({ version: 1, tenants: { alice: { port: 9001, consolePort: 9002 }, bob: { port: 9003, consolePort: 9004 } } });
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['a wrong version', '{"version":2,"tenants":{}}', '"version": 1'],
    ['a port out of range', '{"version":1,"tenants":{"a":{"port":70000,"consolePort":9002}}}', 'tenant a needs'],
  ])('rejects %s naming the file', async (_title, content, fragment) => {
    const paths = statePaths(dir);
    await mkdir(paths.root, { recursive: true });
    await writeFile(paths.ports, content);
    const error = (await readPortLedger(paths).catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'PORT_LEDGER_INVALID' });
    expect(error.message).toContain(paths.ports);
    expect(error.message).toContain(fragment);
  });
});
