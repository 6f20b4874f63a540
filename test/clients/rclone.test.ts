import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertExecutable,
  bucketsOf,
  etagDirect,
  listKeysDirect,
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

/** Debian's rclone package (rclone 1.60 on Debian 12). */
const RCLONE = '/usr/bin/rclone';
/** Files above 5 MiB go up as multipart uploads in 5 MiB chunks, so the 12 MiB file takes 3 parts. */
const UPLOAD_CUTOFF = '5M';
const CHUNK_SIZE = '5M';
const LARGE_FILE_BYTES = 12 * 1024 * 1024;

interface RcloneOutcome {
  exitCodes: Record<string, number>;
  /** `size path` lines of `rclone ls`. */
  listing: string[];
  catSha256: Record<string, string>;
}

let pair: TenantPair | undefined;
let small: TestFile;
let large: TestFile;
const outcomes = new Map<Target['label'], RcloneOutcome>();

beforeAll(async () => {
  await assertExecutable(RCLONE, 'rclone');
  pair = await startTenantPair();
  const sourceDir = join(pair.scratchDir, 'rclone-source');
  await mkdir(join(sourceDir, 'nested'), { recursive: true });
  small = await writeRandomFile(join(sourceDir, 'nested'), 'small.bin', 4096);
  large = await writeRandomFile(sourceDir, 'large.bin', LARGE_FILE_BYTES);
  for (const target of targetsOf(pair)) {
    outcomes.set(target.label, await runScenario(pair, target, sourceDir));
  }
}, 300_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

/** Defines the remote `X` by RCLONE_CONFIG_X_* variables only, with an empty config file. */
async function rcloneEnv(tenants: TenantPair, target: Target): Promise<Record<string, string>> {
  const emptyConfig = join(tenants.scratchDir, 'rclone.conf');
  await writeFile(emptyConfig, '');
  return {
    HOME: tenants.scratchDir,
    RCLONE_CONFIG: emptyConfig,
    RCLONE_CONFIG_X_TYPE: 's3',
    RCLONE_CONFIG_X_PROVIDER: 'Minio',
    RCLONE_CONFIG_X_ENV_AUTH: 'false',
    RCLONE_CONFIG_X_ACCESS_KEY_ID: tenants.alice.accessKey,
    RCLONE_CONFIG_X_SECRET_ACCESS_KEY: tenants.alice.secretKey,
    RCLONE_CONFIG_X_ENDPOINT: target.endpoint,
    RCLONE_CONFIG_X_REGION: 'us-east-1',
    RCLONE_CONFIG_X_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_X_UPLOAD_CUTOFF: UPLOAD_CUTOFF,
    RCLONE_CONFIG_X_CHUNK_SIZE: CHUNK_SIZE,
  };
}

async function runScenario(tenants: TenantPair, target: Target, sourceDir: string): Promise<RcloneOutcome> {
  const bucket = `rclone-${target.label}`;
  const env = await rcloneEnv(tenants, target);
  const rclone = (args: string[]) => runTool(RCLONE, args, env);

  const exitCodes: Record<string, number> = {};
  exitCodes.mkdir = (await rclone(['mkdir', `X:${bucket}`])).exitCode;
  exitCodes.copy = (await rclone(['copy', sourceDir, `X:${bucket}`])).exitCode;

  const listing = await rclone(['ls', `X:${bucket}`]);
  exitCodes.ls = listing.exitCode;

  const catSha256: Record<string, string> = {};
  for (const key of ['nested/small.bin', 'large.bin']) {
    const cat = await runCat(env, `X:${bucket}/${key}`);
    exitCodes[`cat ${key}`] = cat.exitCode;
    catSha256[key] = sha256Of(cat.stdout);
  }

  return { exitCodes, listing: linesOf(listing.stdout), catSha256 };
}

/** `rclone cat` writes binary data, so stdout is read as bytes rather than through runTool. */
async function runCat(env: Record<string, string>, remotePath: string): Promise<{ exitCode: number; stdout: Uint8Array }> {
  const result = await execa(RCLONE, ['cat', remotePath], {
    env: { PATH: '/usr/bin:/bin', NO_PROXY: '*', no_proxy: '*', ...env },
    extendEnv: false,
    encoding: 'buffer',
    reject: false,
    timeout: 120_000,
    stdin: 'ignore',
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout };
}

function linesOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().replace(/\s+/, ' '))
    .filter((line) => line !== '')
    .sort();
}

describe('rclone through the proxy', () => {
  it('exits 0 for every command', () => {
    expect(outcomes.get('proxy')?.exitCodes).toEqual({ mkdir: 0, copy: 0, ls: 0, 'cat nested/small.bin': 0, 'cat large.bin': 0 });
  });

  it('matches the direct run', () => {
    expect(outcomes.get('proxy')).toEqual(outcomes.get('direct'));
  });

  it('lists sizes and paths', () => {
    expect(outcomes.get('proxy')?.listing).toEqual([`${LARGE_FILE_BYTES} large.bin`, '4096 nested/small.bin']);
  });

  it('reads both files intact', () => {
    expect(outcomes.get('proxy')?.catSha256).toEqual({ 'nested/small.bin': small.sha256, 'large.bin': large.sha256 });
  });

  it('uploads the 12 MiB file in 3 parts', async () => {
    expect(await etagDirect(pair as TenantPair, 'rclone-proxy', 'large.bin')).toMatch(/-3$/);
  });

  it("stores objects in alice's server only", async () => {
    const tenants = pair as TenantPair;
    expect(await listKeysDirect(tenants, 'rclone-proxy')).toEqual(['large.bin', 'nested/small.bin']);
    expect(await bucketsOf(tenants, tenants.bob)).not.toContain('rclone-proxy');
  });
});
