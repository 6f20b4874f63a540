import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExecutable,
  bucketsOf,
  etagDirect,
  listKeysDirect,
  runTool,
  sha256OfFile,
  startTenantPair,
  stopTenantPair,
  targetsOf,
  writeRandomFile,
  type Target,
  type TenantPair,
  type TestFile,
} from './helpers/tenant-pair.js';

/** Debian's s3cmd package (s3cmd 2.3 on Debian 12). */
const S3CMD = '/usr/bin/s3cmd';
/** s3cmd's smallest multipart chunk; the larger file is uploaded in 2 parts. */
const CHUNK_MIB = 5;
const LARGE_FILE_BYTES = 6 * 1024 * 1024;

type Signature = 'v2' | 'v4';

interface S3cmdOutcome {
  exitCodes: Record<string, number>;
  listedKeys: string[];
  downloadedSha256: Record<string, string>;
  keysAfterDelete: string[];
}

let pair: TenantPair | undefined;
let small: TestFile;
let large: TestFile;
const outcomes = new Map<string, S3cmdOutcome>();

beforeAll(async () => {
  await assertExecutable(S3CMD, 's3cmd');
  pair = await startTenantPair();
  small = await writeRandomFile(pair.scratchDir, 'small.bin', 70_000);
  large = await writeRandomFile(pair.scratchDir, 'large.bin', LARGE_FILE_BYTES);
  for (const signature of ['v2', 'v4'] as const) {
    for (const target of targetsOf(pair)) {
      outcomes.set(`${signature}-${target.label}`, await runScenario(pair, target, signature));
    }
  }
}, 300_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

/**
 * host_bucket without `%(bucket)s` makes s3cmd use path-style requests. The keys live in
 * the file, so they never appear in s3cmd's arguments.
 */
async function writeConfig(tenants: TenantPair, target: Target, signature: Signature): Promise<string> {
  const hostPort = new URL(target.endpoint).host;
  const file = join(tenants.scratchDir, `s3cmd-${signature}-${target.label}.cfg`);
  await writeFile(
    file,
    [
      '[default]',
      `access_key = ${tenants.alice.accessKey}`,
      `secret_key = ${tenants.alice.secretKey}`,
      `host_base = ${hostPort}`,
      `host_bucket = ${hostPort}`,
      'bucket_location = us-east-1',
      'use_https = False',
      `signature_v2 = ${signature === 'v2' ? 'True' : 'False'}`,
      'proxy_host =',
      'proxy_port = 0',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

async function runScenario(tenants: TenantPair, target: Target, signature: Signature): Promise<S3cmdOutcome> {
  const bucket = `s3cmd-${signature}-${target.label}`;
  const config = await writeConfig(tenants, target, signature);
  const s3cmd = (args: string[]) => runTool(S3CMD, ['--config', config, '--no-progress', `--multipart-chunk-size-mb=${CHUNK_MIB}`, ...args], { HOME: tenants.scratchDir });

  const exitCodes: Record<string, number> = {};
  exitCodes.mb = (await s3cmd(['mb', `s3://${bucket}`])).exitCode;
  exitCodes.putSmall = (await s3cmd(['put', small.path, `s3://${bucket}/dir/small.bin`])).exitCode;
  exitCodes.putLarge = (await s3cmd(['put', large.path, `s3://${bucket}/large.bin`])).exitCode;

  const listing = await s3cmd(['ls', '--recursive', `s3://${bucket}`]);
  exitCodes.ls = listing.exitCode;

  const downloadedSha256: Record<string, string> = {};
  for (const key of ['dir/small.bin', 'large.bin']) {
    const destination = join(tenants.scratchDir, `s3cmd-get-${signature}-${target.label}-${key.replaceAll('/', '-')}`);
    const get = await s3cmd(['get', '--force', `s3://${bucket}/${key}`, destination]);
    exitCodes[`get ${key}`] = get.exitCode;
    downloadedSha256[key] = get.exitCode === 0 ? await sha256OfFile(destination) : '';
  }

  exitCodes.del = (await s3cmd(['del', `s3://${bucket}/dir/small.bin`])).exitCode;
  const afterDelete = await s3cmd(['ls', '--recursive', `s3://${bucket}`]);

  return {
    exitCodes,
    listedKeys: keysOfListing(listing.stdout, bucket),
    downloadedSha256,
    keysAfterDelete: keysOfListing(afterDelete.stdout, bucket),
  };
}

/** `s3cmd ls --recursive` prints `date time size s3://bucket/key` per object. */
function keysOfListing(stdout: string, bucket: string): string[] {
  const prefix = `s3://${bucket}/`;
  return stdout
    .split('\n')
    .map((line) => line.slice(line.indexOf(prefix)))
    .filter((url) => url.startsWith(prefix))
    .map((url) => url.slice(prefix.length))
    .sort();
}

describe.each(['v2', 'v4'] as const)('s3cmd with signature %s through the proxy', (signature) => {
  const proxyOutcome = () => outcomes.get(`${signature}-proxy`);

  it('exits 0 for every command', () => {
    expect(proxyOutcome()?.exitCodes).toEqual({ mb: 0, putSmall: 0, putLarge: 0, ls: 0, 'get dir/small.bin': 0, 'get large.bin': 0, del: 0 });
  });

  it('matches the direct run', () => {
    expect(proxyOutcome()).toEqual(outcomes.get(`${signature}-direct`));
  });

  it('lists, downloads and deletes', () => {
    expect(proxyOutcome()?.listedKeys).toEqual(['dir/small.bin', 'large.bin']);
    expect(proxyOutcome()?.downloadedSha256).toEqual({ 'dir/small.bin': small.sha256, 'large.bin': large.sha256 });
    expect(proxyOutcome()?.keysAfterDelete).toEqual(['large.bin']);
  });

  it('uploads the 6 MiB file in 2 parts', async () => {
    expect(await etagDirect(pair as TenantPair, `s3cmd-${signature}-proxy`, 'large.bin')).toMatch(/-2$/);
  });

  it("stores objects in alice's server only", async () => {
    const tenants = pair as TenantPair;
    expect(await listKeysDirect(tenants, `s3cmd-${signature}-proxy`)).toEqual(['large.bin']);
    expect(await bucketsOf(tenants, tenants.bob)).not.toContain(`s3cmd-${signature}-proxy`);
  });
});
