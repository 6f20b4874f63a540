import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs, type CliCommand } from '../../src/devserver/cli-args.js';
import { parseRequestTarget } from '../../src/devserver/request-context.js';
import { listPage } from '../../src/devserver/list-objects.js';
import type { ObjectMeta } from '../../src/devserver/store/object-meta.js';

describe('parseCliArgs', () => {
  const valid: Array<[string[], CliCommand]> = [
    [['--version'], { kind: 'version' }],
    [['server', '/data'], { kind: 'server', host: '', port: 9000, dataDir: '/data' }],
    [['server', '--address', '127.0.0.1:9001', '/data'], { kind: 'server', host: '127.0.0.1', port: 9001, dataDir: '/data' }],
    [['server', '--address=:0', '/data'], { kind: 'server', host: '', port: 0, dataDir: '/data' }],
    [['server', '--address', '[::1]:9002', '/data'], { kind: 'server', host: '::1', port: 9002, dataDir: '/data' }],
    [
      ['--config-dir', '/cfg', 'server', '--console-address', ':9090', '--address', '127.0.0.1:1', '/data'],
      { kind: 'server', host: '127.0.0.1', port: 1, dataDir: '/data', consoleAddress: ':9090', configDir: '/cfg' },
    ],
    [['server', '--quiet', '-address', '127.0.0.1:2', '/data'], { kind: 'server', host: '127.0.0.1', port: 2, dataDir: '/data' }],
  ];
  for (const [args, command] of valid) {
    it(`parses ${args.join(' ')}`, () => {
      expect(parseCliArgs(args)).toEqual(command);
    });
  }

  const invalid: Array<[string[], RegExp]> = [
    [[], /missing command/],
    [['serve', '/data'], /unknown command "serve"/],
    [['--bogus', 'server', '/data'], /unknown flag "--bogus"/],
    [['server', '--bogus', '/data'], /unknown flag "--bogus" for "server"/],
    [['server'], /missing DATA_DIR/],
    [['server', '/a', '/b'], /expected one DATA_DIR, got 2/],
    [['server', '--address', '9000', '/data'], /must have the form HOST:PORT/],
    [['server', '--address', 'localhost:99999', '/data'], /invalid port "99999"/],
    [['server', '/data', '--address'], /flag "--address" needs a value/],
  ];
  for (const [args, message] of invalid) {
    it(`rejects ${JSON.stringify(args)}`, () => {
      expect(() => parseCliArgs(args)).toThrow(CliUsageError);
      expect(() => parseCliArgs(args)).toThrow(message);
    });
  }
});

describe('parseRequestTarget', () => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['/', undefined, undefined],
    ['/bucket', 'bucket', undefined],
    ['/bucket/', 'bucket', undefined],
    ['/bucket/with%20space.txt', 'bucket', 'with space.txt'],
    ['/bucket/a%2Bb.txt', 'bucket', 'a+b.txt'],
    ['/bucket/a+b.txt', 'bucket', 'a+b.txt'],
    ['/bucket/odd%252Fname.txt', 'bucket', 'odd%2Fname.txt'],
    ['/bucket//leading', 'bucket', '/leading'],
    ['/bucket/a//b/', 'bucket', 'a//b/'],
    ['/bucket/%C3%BC/%E6%96%87', 'bucket', 'ü/文'],
  ];
  for (const [url, bucket, key] of cases) {
    it(`splits ${url}`, () => {
      const context = parseRequestTarget('GET', `${url}?x-id=GetObject`, {}, []);
      expect(context.bucket).toBe(bucket);
      expect(context.key).toBe(key);
      expect(context.rawPath).toBe(url);
    });
  }

  it('rejects invalid percent-encoding', () => {
    expect(() => parseRequestTarget('GET', '/bucket/%E0%A4%A', {}, [])).toThrow(/not valid percent-encoding/);
  });
});

describe('listPage', () => {
  const objects = ['a/1', 'a/2', 'a/b/3', 'b', 'c/4'].map((key) => ({ key }) as ObjectMeta);

  it('groups keys by delimiter and pages through common prefixes', () => {
    const first = listPage(objects, { prefix: '', delimiter: '/', maxKeys: 2, after: '' });
    expect(first.commonPrefixes).toEqual(['a/']);
    expect(first.objects.map((object) => object.key)).toEqual(['b']);
    expect(first.isTruncated).toBe(true);
    expect(first.nextMarker).toBe('b');

    const second = listPage(objects, { prefix: '', delimiter: '/', maxKeys: 2, after: first.nextMarker! });
    expect(second.commonPrefixes).toEqual(['c/']);
    expect(second.isTruncated).toBe(false);
  });

  it('skips keys under a common prefix used as marker', () => {
    const page = listPage(objects, { prefix: '', delimiter: '/', maxKeys: 10, after: 'a/' });
    expect(page.objects.map((object) => object.key)).toEqual(['b']);
    expect(page.commonPrefixes).toEqual(['c/']);
  });

  it('lists below a prefix without a delimiter', () => {
    const page = listPage(objects, { prefix: 'a/', delimiter: '', maxKeys: 10, after: '' });
    expect(page.objects.map((object) => object.key)).toEqual(['a/1', 'a/2', 'a/b/3']);
  });
});
