import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExecutable,
  bucketsOf,
  runTool,
  sha256Of,
  startTenantPair,
  stopTenantPair,
  targetsOf,
  writeRandomFile,
  type Target,
  type TenantPair,
  type TestFile,
} from './helpers/tenant-pair.js';

/** Debian's interpreter, which has python3-boto3; /root/.pyenv may shadow python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const SCENARIO = resolve(import.meta.dirname, 'fixtures/boto3_scenario.py');
const LARGE_FILE_BYTES = 12 * 1024 * 1024;
/** The body that the scenario writes to dir/small.txt. */
const SMALL_BODY = Buffer.from('hello from boto3\n'.repeat(100));

interface Boto3Outcome {
  errors: Record<string, string>;
  get_sha256: string | null;
  large_parts: string | null;
  large_sha256: string | null;
  keys: string[] | null;
  presigned_sha256: string | null;
}

let pair: TenantPair | undefined;
let large: TestFile;
const outcomes = new Map<Target['label'], Boto3Outcome>();

beforeAll(async () => {
  await assertExecutable(PYTHON, 'python3');
  const probe = await runTool(PYTHON, ['-c', 'import boto3'], {});
  if (probe.exitCode !== 0) {
    throw new Error(`${PYTHON} cannot import boto3; install it with "apt-get install -y python3-boto3": ${probe.stderr}`);
  }
  pair = await startTenantPair();
  large = await writeRandomFile(pair.scratchDir, 'large.bin', LARGE_FILE_BYTES);
  for (const target of targetsOf(pair)) {
    outcomes.set(target.label, await runScenario(pair, target));
  }
}, 300_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

async function runScenario(tenants: TenantPair, target: Target): Promise<Boto3Outcome> {
  const result = await runTool(PYTHON, [SCENARIO, target.endpoint, `boto3-${target.label}`, large.path], {
    HOME: tenants.scratchDir,
    AWS_ACCESS_KEY_ID: tenants.alice.accessKey,
    AWS_SECRET_ACCESS_KEY: tenants.alice.secretKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(tenants.scratchDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tenants.scratchDir, 'no-aws-credentials'),
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Boto3Outcome;
}

describe('boto3 through the proxy', () => {
  it('reports no errors', () => {
    expect(outcomes.get('proxy')?.errors).toEqual({});
  });

  it('matches the direct run', () => {
    expect(outcomes.get('proxy')).toEqual(outcomes.get('direct'));
  });

  it('gets, lists and presigns', () => {
    const proxy = outcomes.get('proxy');
    expect(proxy?.get_sha256).toBe(sha256Of(SMALL_BODY));
    expect(proxy?.keys).toEqual(['dir/small.txt', 'large.bin']);
    expect(proxy?.presigned_sha256).toBe(sha256Of(SMALL_BODY));
  });

  it('uploads the 12 MiB file in 3 parts', () => {
    expect(outcomes.get('proxy')?.large_parts).toBe('3');
    expect(outcomes.get('proxy')?.large_sha256).toBe(large.sha256);
  });

  it("keeps bob's buckets apart", async () => {
    const tenants = pair as TenantPair;
    expect(await bucketsOf(tenants, tenants.alice)).toContain('boto3-proxy');
    expect(await bucketsOf(tenants, tenants.bob)).not.toContain('boto3-proxy');
  });
});
