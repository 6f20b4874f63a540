import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { isAlive } from '../../src/supervisor/process-info.js';
import { runCli, type CliResult, type Workspace } from './cli.js';

export interface AddedTenant {
  name: string;
  accessKey: string;
  secretKey: string;
  endpoint: string;
  port: number;
}

export interface StatusRow {
  name: string;
  state: string;
  pid: number | null;
  port: number | null;
  restarts: number;
  accessKey: string | null;
  engine: string | null;
  lastExit: { code: number | null; signal: string | null } | null;
  error: string | null;
}

export interface StatusJson {
  supervisor: { running: boolean; pid: number | null };
  proxy: { running: boolean; url: string };
  tenants: StatusRow[];
}

/** `minio-tenants --config <workspace> ARGS`. */
export function cli(workspace: Workspace, args: string[]): Promise<CliResult> {
  return runCli(['--config', workspace.configFile, ...args], { cwd: workspace.dir });
}

export async function addTenants(workspace: Workspace, names: string[]): Promise<Map<string, AddedTenant>> {
  const added = new Map<string, AddedTenant>();
  for (const name of names) {
    const result = await cli(workspace, ['add', name, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    added.set(name, JSON.parse(result.stdout) as AddedTenant);
  }
  return added;
}

export async function statusOf(workspace: Workspace): Promise<StatusJson> {
  const result = await cli(workspace, ['status', '--json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

export function rowOf(status: StatusJson, name: string): StatusRow {
  const row = status.tenants.find((candidate) => candidate.name === name);
  if (row === undefined) {
    throw new Error(`status has no tenant ${name}: ${JSON.stringify(status.tenants.map((entry) => entry.name))}`);
  }
  return row;
}

/**
 * Polls `status --json` until `accept` returns true, at most `timeoutMs`. Returns the last
 * status either way, so the caller's assertions show what was seen.
 */
export async function waitForStatus(workspace: Workspace, accept: (status: StatusJson) => boolean, timeoutMs = 20_000): Promise<StatusJson> {
  const deadline = Date.now() + timeoutMs;
  let status = await statusOf(workspace);
  while (!accept(status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await statusOf(workspace);
  }
  return status;
}

export function s3ClientFor(workspace: Workspace, tenant: AddedTenant): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${workspace.proxyPort}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
    maxAttempts: 1,
  });
}

/** Reads the supervisor's structured log as parsed JSON lines. */
export async function supervisorLog(workspace: Workspace): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(workspace.dir, '.minio-tenants', 'logs', 'supervisor.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Tracks the pids a test saw, and at the end runs `down` and SIGKILLs any of them still
 * alive, so that a failed assertion never leaves servers behind.
 */
export class PidTracker {
  private readonly pids = new Set<number>();

  remember(status: StatusJson): void {
    for (const pid of [status.supervisor.pid, ...status.tenants.map((row) => row.pid)]) {
      if (pid !== null) {
        this.pids.add(pid);
      }
    }
  }

  add(pid: number): void {
    this.pids.add(pid);
  }

  async cleanup(workspace: Workspace | undefined): Promise<void> {
    if (workspace !== undefined) {
      await cli(workspace, ['down']).catch(() => undefined);
    }
    for (const pid of this.pids) {
      if (isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
  }
}
