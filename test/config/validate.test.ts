import { describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import { parseConfigText } from '../../src/config/validate.js';

/** Runs the parser and returns the error message, or fails when the text is accepted. */
function errorOf(text: string): TenantsError {
  try {
    parseConfigText(text, 'tenants.yaml');
  } catch (error) {
    if (error instanceof TenantsError) {
      return error;
    }
    throw error;
  }
  throw new Error(`accepted invalid configuration:\n${text}`);
}

describe('parseConfigText', () => {
  const invalid: { title: string; yaml: string; fragments: string[] }[] = [
    {
      title: 'unknown tenant key',
      yaml: 'tenants:\n  alice:\n    prot: 9001\n',
      fragments: ['tenants.yaml:3: unknown key "prot" in tenants.alice; expected one of port, dataDir, hosts'],
    },
    {
      title: 'unknown top-level key',
      yaml: '# comment\nstateDri: x\n',
      fragments: ['tenants.yaml:2: unknown key "stateDri" in the top level', 'stateDir, dataDir, server, proxy, ports, supervisor, logs, tenants'],
    },
    { title: 'unknown server key', yaml: 'server:\n  cmd: minio\n', fragments: ['tenants.yaml:2: unknown key "cmd" in server', 'command, args, env, flavor'] },
    { title: 'unclosed flow mapping', yaml: 'tenants:\n  alice: {port: 1\n', fragments: ['tenants.yaml:3: invalid YAML'] },
    { title: 'tab indentation', yaml: 'tenants:\n  a:\n\tport: 1\n', fragments: ['tenants.yaml:3: invalid YAML: Tabs'] },
    { title: 'duplicate tenant', yaml: 'tenants:\n  a: {}\n  a: {}\n', fragments: ['tenants.yaml:3: invalid YAML: Map keys must be unique'] },
    { title: 'port as string', yaml: 'ports:\n  from: abc\n', fragments: ['tenants.yaml:2: ports.from must be an integer, got the string "abc"'] },
    { title: 'port out of range', yaml: 'tenants:\n  a:\n    port: 70000\n', fragments: ['tenants.yaml:3: tenants.a.port must be an integer from 1 to 65535, got 70000'] },
    { title: 'port zero', yaml: 'ports:\n  to: 0\n', fragments: ['tenants.yaml:2: ports.to must be an integer from 1 to 65535, got 0'] },
    { title: 'hosts not a list', yaml: 'tenants:\n  a:\n    hosts: a.example.com\n', fragments: ['tenants.yaml:3: tenants.a.hosts must be a list'] },
    { title: 'env value not a string', yaml: 'server:\n  env:\n    FOO: 1\n', fragments: ['tenants.yaml:3: server.env.FOO must be a string', 'quote the value'] },
    { title: 'duration without unit', yaml: 'supervisor:\n  readyTimeout: 30\n', fragments: ['tenants.yaml:2: supervisor.readyTimeout must be a duration such as 250ms, 30s, 5m or 1h, got 30'] },
    { title: 'duration with unknown unit', yaml: 'supervisor:\n  stopTimeout: 10x\n', fragments: ['tenants.yaml:2: supervisor.stopTimeout must be a duration', 'got the string "10x"'] },
    { title: 'size without unit', yaml: 'logs:\n  maxSize: 10MB\n', fragments: ['tenants.yaml:2: logs.maxSize must be a size such as 512KiB, 10MiB or 1GiB'] },
    { title: 'max crashes zero', yaml: 'supervisor:\n  maxCrashes: 0\n', fragments: ['tenants.yaml:2: supervisor.maxCrashes must be an integer from 1 to 1000, got 0'] },
    { title: 'shared data directory', yaml: 'tenants:\n  a:\n    dataDir: /srv/x\n  b:\n    dataDir: /srv/x/\n', fragments: ['tenants.yaml:5: tenants.b.dataDir "/srv/x/" is also the data directory of tenant a'] },
    { title: 'data directory of another tenant', yaml: 'tenants:\n  a:\n  b:\n    dataDir: data/a\n', fragments: ['tenants.yaml:4: tenants.b.dataDir "data/a" is also the data directory of tenant a'] },
    { title: 'args not a list', yaml: 'server:\n  args: --foo\n', fragments: ['tenants.yaml:2: server.args must be a list'] },
    { title: 'file is a list', yaml: '- a\n- b\n', fragments: ['tenants.yaml:1: the top level must be a mapping of keys, got a list'] },
    { title: 'tenants is a list', yaml: 'tenants: [a, b]\n', fragments: ['tenants.yaml:1: tenants must be a mapping of keys, got a list'] },
    { title: 'empty dataDir', yaml: 'dataDir: ""\n', fragments: ['tenants.yaml:1: dataDir must not be empty'] },
    { title: 'unknown flavor', yaml: 'server:\n  flavor: newest\n', fragments: ['tenants.yaml:2: server.flavor must be one of auto, legacy, current, got the string "newest"'] },
    { title: 'uppercase tenant name', yaml: 'tenants:\n  Alice: {}\n', fragments: ['tenants.yaml:2: invalid tenant name "Alice" in tenants', 'lowercase letters'] },
    { title: 'tenant name ending in hyphen', yaml: 'tenants:\n  ok: {}\n  bad-:\n', fragments: ['tenants.yaml:3: invalid tenant name "bad-"', 'starts or ends with a hyphen'] },
    { title: 'range reversed', yaml: 'ports:\n  from: 9500\n  to: 9100\n', fragments: ['tenants.yaml:2: ports.from (9500) is greater than ports.to (9100)'] },
    { title: 'duplicate fixed port', yaml: 'tenants:\n  a: {port: 9100}\n  b:\n    port: 9100\n', fragments: ['tenants.yaml:4: tenants.b.port 9100 is also the port of tenant a'] },
    { title: 'fixed port of the proxy', yaml: 'proxy:\n  listen: 127.0.0.1:9500\ntenants:\n  a:\n    port: 9500\n', fragments: ["tenants.yaml:5: tenants.a.port 9500 is the proxy's port"] },
    { title: 'listen without port', yaml: 'proxy:\n  listen: localhost\n', fragments: ['tenants.yaml:2: invalid proxy.listen "localhost"', 'expected host:port'] },
    { title: 'listen with bare IPv6', yaml: 'proxy:\n  listen: "::1:9000"\n', fragments: ['tenants.yaml:2: invalid proxy.listen'] },
    { title: 'workers zero', yaml: 'proxy:\n  workers: 0\n', fragments: ['tenants.yaml:2: invalid proxy.workers 0; expected an integer from 1 to 64, or auto'] },
    { title: 'workers above 64', yaml: 'proxy:\n  workers: 65\n', fragments: ['tenants.yaml:2: invalid proxy.workers 65'] },
    { title: 'workers fraction', yaml: 'proxy:\n  workers: 2.5\n', fragments: ['tenants.yaml:2: invalid proxy.workers 2.5'] },
    { title: 'workers unknown word', yaml: 'proxy:\n  workers: many\n', fragments: ['tenants.yaml:2: invalid proxy.workers "many"'] },
    { title: 'publicUrl not http', yaml: 'proxy:\n  publicUrl: ftp://x\n', fragments: ['tenants.yaml:2: invalid proxy.publicUrl "ftp://x"'] },
    { title: 'publicUrl with path', yaml: 'proxy:\n  publicUrl: https://x.example.com/s3\n', fragments: ['tenants.yaml:2: invalid proxy.publicUrl'] },
    { title: 'invalid host name', yaml: 'tenants:\n  a:\n    hosts:\n      - "bad host"\n', fragments: ['tenants.yaml:4: invalid host name "bad host" in tenants.a.hosts'] },
    {
      title: 'host of two tenants',
      yaml: 'tenants:\n  a:\n    hosts: [x.example.com]\n  b:\n    hosts: [X.example.com]\n',
      fragments: ['tenants.yaml:5: host "X.example.com" in tenants.b.hosts is also listed for tenant a'],
    },
    { title: 'repeated host', yaml: 'tenants:\n  a:\n    hosts: [x.example.com, x.example.com]\n', fragments: ['tenants.yaml:3: tenants.a.hosts lists the string "x.example.com" more than once'] },
  ];

  it.each(invalid)('rejects $title', ({ yaml, fragments }) => {
    const error = errorOf(yaml);
    expect(error.code).toBe('CONFIG_INVALID');
    for (const fragment of fragments) {
      expect(error.message).toContain(fragment);
    }
  });

  it('lists every problem sorted by line', () => {
    const error = errorOf('tenants:\n  a:\n    port: x\nports:\n  from: 0\nstateDri: y\n');
    const lines = error.message.split('\n');
    expect(lines[0]).toMatch(/^tenants\.yaml:3: /);
    expect(lines[1]).toMatch(/^tenants\.yaml:5: /);
    expect(lines[2]).toMatch(/^tenants\.yaml:6: unknown key "stateDri"/);
    expect(lines[3]).toContain('3 problems');
  });

  const valid: { title: string; yaml: string; tenants: string[] }[] = [
    { title: 'an empty file', yaml: '', tenants: [] },
    { title: 'only comments', yaml: '# nothing yet\n', tenants: [] },
    { title: 'an empty tenant as null and as {}', yaml: 'tenants:\n  alice:\n  bob: {}\n', tenants: ['alice', 'bob'] },
    { title: 'empty sections', yaml: 'server:\nproxy:\nports:\ntenants:\n', tenants: [] },
    {
      title: 'every key',
      yaml: [
        'stateDir: state',
        'dataDir: /srv/data',
        'server: {command: ./minio, args: [--quiet], env: {MINIO_REGION: eu-west-1}, flavor: legacy}',
        'proxy: {listen: "[::]:9000", publicUrl: "https://s3.example.com"}',
        'ports: {from: 10000, to: 10010}',
        'tenants:',
        '  a-1: {port: 10100, dataDir: /srv/a, hosts: [a.example.com, 10.0.0.1]}',
      ].join('\n'),
      tenants: ['a-1'],
    },
  ];

  it.each(valid)('accepts $title', ({ yaml, tenants }) => {
    const { raw } = parseConfigText(yaml, 'tenants.yaml');
    expect(Object.keys(raw.tenants ?? {})).toEqual(tenants);
  });
});
