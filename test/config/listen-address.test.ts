import { describe, expect, it } from 'vitest';
import { derivePublicUrl, parseListenAddress } from '../../src/config/listen-address.js';

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9000', '127.0.0.1', 9000],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['localhost:9000', 'localhost', 9000],
    ['s3.example.com:443', 's3.example.com', 443],
    ['[::1]:9000', '::1', 9000],
    ['[::]:65535', '::', 65535],
  ])('parses %s', (text, host, port) => {
    expect(parseListenAddress(text)).toEqual({ host, port });
  });

  it.each(['9000', 'localhost', ':9000', '127.0.0.1:0', '127.0.0.1:65536', '::1:9000', '[localhost]:9000', 'a b:9000', '127.0.0.1:90a', 'http://x:9000'])(
    'rejects %j',
    (text) => {
      expect(parseListenAddress(text)).toBeUndefined();
    },
  );
});

describe('derivePublicUrl', () => {
  it.each([
    ['127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['0.0.0.0:9000', 'http://127.0.0.1:9000'],
    ['[::]:9000', 'http://[::1]:9000'],
    ['[::1]:9100', 'http://[::1]:9100'],
    ['localhost:8080', 'http://localhost:8080'],
  ])('maps %s to %s', (listen, url) => {
    const address = parseListenAddress(listen);
    expect(address).toBeDefined();
    expect(derivePublicUrl(address!)).toBe(url);
  });
});
