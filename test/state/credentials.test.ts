import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCESS_KEY_ALPHABET,
  accessKeyProblem,
  generateCredentials,
  readCredentials,
  SECRET_KEY_ALPHABET,
  secretKeyProblem,
  writeCredentials,
} from '../../src/state/credentials.js';
import { statePaths } from '../../src/state/paths.js';

describe('accessKeyProblem', () => {
  it.each(['abc', 'AKIAIOSFODNN7EXAMPLE', 'user/with/slash', 'a'.repeat(128)])('accepts %j', (key) => {
    expect(accessKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', 'at least 3'],
    ['ab', 'at least 3'],
    ['a=bc', '"=" or ","'],
    ['a,bc', '"=" or ","'],
    ['ab c', 'whitespace'],
    ['abc\n', 'whitespace'],
    ['ab\u0000c', 'control'],
  ])('rejects %j', (key, fragment) => {
    expect(accessKeyProblem(key)).toContain(fragment);
  });
});

describe('secretKeyProblem', () => {
  it.each(['12345678', 'with spaces inside', 'a=b,c/d+e'])('accepts %j', (key) => {
    expect(secretKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', 'at least 8'],
    ['1234567', 'at least 8'],
    ['12345678\u0007', 'control'],
  ])('rejects %j', (key, fragment) => {
    expect(secretKeyProblem(key)).toContain(fragment);
  });

  it('keeps the secret out of the message', () => {
    expect(secretKeyProblem('sEcReT7')).not.toContain('sEcReT7');
  });
});

describe('generateCredentials', () => {
  it('generates keys of the right length and alphabet', () => {
    const samples = Array.from({ length: 200 }, () => generateCredentials());
    for (const { accessKey, secretKey } of samples) {
      expect(accessKey).toMatch(/^[A-Z0-9]{20}$/);
      expect(secretKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(accessKeyProblem(accessKey)).toBeUndefined();
      expect(secretKeyProblem(secretKey)).toBeUndefined();
    }
    expect(new Set(samples.map((sample) => sample.accessKey)).size).toBe(samples.length);
  });

  it('uses every character of both alphabets', () => {
    const seenAccess = new Set<string>();
    const seenSecret = new Set<string>();
    for (let index = 0; index < 400; index += 1) {
      const { accessKey, secretKey } = generateCredentials();
      [...accessKey].forEach((character) => seenAccess.add(character));
      [...secretKey].forEach((character) => seenSecret.add(character));
    }
    expect([...seenAccess].sort().join('')).toBe([...ACCESS_KEY_ALPHABET].sort().join(''));
    expect([...seenSecret].sort().join('')).toBe([...SECRET_KEY_ALPHABET].sort().join(''));
  });
});

describe('credentials file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'credentials-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips with mode 0600 in 0700 directories', async () => {
    const paths = statePaths(join(dir, 'state'));
    await writeCredentials(paths, 'alice', { accessKey: 'ALICEKEY', secretKey: 'alice-secret' });

    expect(await readCredentials(paths, 'alice')).toEqual({ accessKey: 'ALICEKEY', secretKey: 'alice-secret' });
    expect((await stat(paths.credentials('alice'))).mode & 0o777).toBe(0o600);
    expect((await stat(paths.tenantDir('alice'))).mode & 0o777).toBe(0o700);
    expect((await stat(paths.root)).mode & 0o777).toBe(0o700);
  });

  it('reports a missing file with the tenant and the fix', async () => {
    const paths = statePaths(dir);
    await expect(readCredentials(paths, 'bob')).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING', message: expect.stringContaining('no credentials for tenant bob') });
  });

  it('reports a malformed file without showing its content', async () => {
    const paths = statePaths(dir);
    await mkdir(paths.tenantDir('bob'), { recursive: true });
    await writeFile(paths.credentials('bob'), '{"accessKey": "BOB", "secretKey": "top-secret-value"');
    const error = (await readCredentials(paths, 'bob').catch((caught: unknown) => caught)) as Error;
    expect(error).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(error.message).not.toContain('top-secret-value');
  });
});
