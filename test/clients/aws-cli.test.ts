import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExecutable,
  bucketsOf,
  etagDirect,
  fetchSha256,
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

/** Debian's awscli package (aws-cli 2.9 on Debian 12); /root/.pyenv may shadow `aws` on PATH. */
const AWS = '/usr/bin/aws';
/** Above the CLI's 8 MiB multipart_threshold, so `aws s3 cp` uploads it in 3 parts of 8, 8 and 4 MiB. */
const LARGE_FILE_BYTES = 20 * 1024 * 1024;

interface AwsOutcome {
  exitCodes: Record<string, number>;
  listedKeys: string[];
  downloadedSha256: string;
  presignedStatus: number;
  presignedSha256: string;
}

let pair: TenantPair | undefined;
let large: TestFile;
let small: TestFile;
let configFile: string;
const outcomes = new Map<Target['label'], AwsOutcome>();

beforeAll(async () => {
  await assertExecutable(AWS, 'awscli');
  pair = await startTenantPair();
  large = await writeRandomFile(pair.scratchDir, 'large.bin', LARGE_FILE_BYTES);
  small = await writeRandomFile(pair.scratchDir, 'small.txt', 1000);
  configFile = join(pair.scratchDir, 'aws-config');
  // No credential source or profile that could reach the EC2 metadata address.
  await writeFile(configFile, ['[default]', 'region = us-east-1', 's3 =', '    addressing_style = path', ''].join('\n'));
  for (const target of targetsOf(pair)) {
    outcomes.set(target.label, await runScenario(pair, target));
  }
}, 300_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

async function runScenario(tenants: TenantPair, target: Target): Promise<AwsOutcome> {
  const bucket = `aws-${target.label}`;
  const downloadDir = join(tenants.scratchDir, `aws-download-${target.label}`);
  await mkdir(downloadDir);
  const env = {
    HOME: tenants.scratchDir,
    AWS_ACCESS_KEY_ID: tenants.alice.accessKey,
    AWS_SECRET_ACCESS_KEY: tenants.alice.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: join(tenants.scratchDir, 'no-aws-credentials'),
    AWS_PAGER: '',
  };
  const aws = (args: string[]) => runTool(AWS, ['--endpoint-url', target.endpoint, ...args], env);

  const exitCodes: Record<string, number> = {};
  exitCodes.mb = (await aws(['s3', 'mb', `s3://${bucket}`])).exitCode;
  exitCodes.cpLargeUp = (await aws(['s3', 'cp', large.path, `s3://${bucket}/large.bin`])).exitCode;
  exitCodes.cpSmallUp = (await aws(['s3', 'cp', small.path, `s3://${bucket}/docs/small.txt`])).exitCode;

  const listing = await aws(['s3', 'ls', '--recursive', `s3://${bucket}`]);
  exitCodes.ls = listing.exitCode;

  const downloaded = join(downloadDir, 'large.bin');
  exitCodes.cpLargeDown = (await aws(['s3', 'cp', `s3://${bucket}/large.bin`, downloaded])).exitCode;

  const presign = await aws(['s3', 'presign', `s3://${bucket}/docs/small.txt`, '--expires-in', '300']);
  exitCodes.presign = presign.exitCode;
  const presigned = await fetchSha256(presign.stdout.trim());

  return {
    exitCodes,
    listedKeys: keysOfListing(listing.stdout),
    downloadedSha256: exitCodes.cpLargeDown === 0 ? await sha256OfFile(downloaded) : '',
    presignedStatus: presigned.status,
    presignedSha256: presigned.sha256,
  };
}

/** `aws s3 ls --recursive` prints `date time size key` per object. */
function keysOfListing(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).slice(3).join(' '))
    .filter((key) => key !== '')
    .sort();
}

describe('aws CLI through the proxy', () => {
  it('exits 0 for every command', () => {
    const proxy = outcomes.get('proxy');
    expect(proxy?.exitCodes).toEqual({ mb: 0, cpLargeUp: 0, cpSmallUp: 0, ls: 0, cpLargeDown: 0, presign: 0 });
  });

  it('matches the direct run', () => {
    expect(outcomes.get('proxy')).toEqual(outcomes.get('direct'));
  });

  it('lists both uploaded keys', () => {
    expect(outcomes.get('proxy')?.listedKeys).toEqual(['docs/small.txt', 'large.bin']);
  });

  it('downloads the 20 MiB file intact', () => {
    expect(outcomes.get('proxy')?.downloadedSha256).toBe(large.sha256);
  });

  it('serves the presigned URL', () => {
    expect(outcomes.get('proxy')?.presignedStatus).toBe(200);
    expect(outcomes.get('proxy')?.presignedSha256).toBe(small.sha256);
  });

  it('uploads the large file in 3 parts', async () => {
    const tenants = pair as TenantPair;
    expect(await etagDirect(tenants, 'aws-proxy', 'large.bin')).toMatch(/-3$/);
    expect(await etagDirect(tenants, 'aws-direct', 'large.bin')).toMatch(/-3$/);
  });

  it("stores objects in alice's server only", async () => {
    const tenants = pair as TenantPair;
    expect(await listKeysDirect(tenants, 'aws-proxy')).toEqual(['docs/small.txt', 'large.bin']);
    expect(await bucketsOf(tenants, tenants.bob)).not.toContain('aws-proxy');
  });
});
