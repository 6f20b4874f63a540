import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, flavorFromVersion, resolveEngine } from '../../src/supervisor/engine.js';
import { TenantsError } from '../../src/errors.js';

describe('flavorFromVersion', () => {
  it.each([
    ['minio version RELEASE.2019-10-12T01-39-57Z', 'legacy'],
    ['minio version RELEASE.2021-04-22T15-44-28Z', 'legacy'],
    ['minio version RELEASE.2021-07-08T01-15-01Z', 'current'],
    ['minio version RELEASE.2024-01-16T16-07-38Z (commit-id=abc)\nRuntime: go1.21.6 linux/amd64', 'current'],
    ['Version: 2019-10-12T01:39:57Z\nRelease-Tag: RELEASE.2019-10-12T01-39-57Z', 'legacy'],
    ['minio version DEVELOPMENT.GOGET', 'current'],
    ['minio-dev-server version DEVELOPMENT.0.1.0', 'current'],
    ['', 'current'],
  ])('%j is %s', (output, expected) => {
    expect(flavorFromVersion(output)).toBe(expected);
  });
});

describe('resolveEngine', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-'));
    // A stand-in for a 2019 MinIO binary: only its --version output matters here.
    await writeFile(join(dir, 'old-minio'), '#!/bin/sh\necho "minio version RELEASE.2019-10-12T01-39-57Z"\n');
    await chmod(join(dir, 'old-minio'), 0o755);
    await writeFile(join(dir, 'not-executable'), '');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('detects a legacy release from --version', async () => {
    const engine = await resolveEngine({ command: './old-minio', flavor: 'auto', baseDir: dir });
    expect(engine.kind).toBe('minio');
    expect(engine.flavor).toBe('legacy');
    expect(engine.file).toBe(join(dir, 'old-minio'));
  });

  it('lets server.flavor override the detection', async () => {
    const engine = await resolveEngine({ command: './old-minio', flavor: 'current', baseDir: dir });
    expect(engine.flavor).toBe('current');
  });

  it('falls back to the development server for the default command', async () => {
    const previousPath = process.env.PATH;
    process.env.PATH = dir;
    try {
      const engine = await resolveEngine({ command: 'minio', flavor: 'auto', baseDir: dir });
      expect(engine.kind).toBe('development');
      expect(engine.file).toBe(process.execPath);
      expect(engine.prefixArgs[0]).toMatch(/bin\/minio-dev-server\.js$/);
    } finally {
      process.env.PATH = previousPath;
    }
  });

  it('rejects a configured command that does not exist', async () => {
    const attempt = resolveEngine({ command: '/nonexistent/minio', flavor: 'auto', baseDir: dir });
    await expect(attempt).rejects.toBeInstanceOf(TenantsError);
    await expect(attempt).rejects.toMatchObject({ code: 'SERVER_COMMAND_NOT_FOUND' });
    await expect(attempt).rejects.toThrow(/\/nonexistent\/minio/);
  });

  it('skips files that are not executable', async () => {
    expect(await findExecutable('not-executable', dir, dir)).toBeUndefined();
    expect(await findExecutable('old-minio', dir, `/nonexistent:${dir}`)).toBe(join(dir, 'old-minio'));
  });
});
