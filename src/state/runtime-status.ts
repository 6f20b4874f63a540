import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import type { TenantState } from '../routing/routes-file.js';
import type { EngineKind } from '../supervisor/engine.js';

/** Exit code or signal of a server process, with its time. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: string;
}

export interface TenantRuntime {
  name: string;
  state: TenantState;
  pid: number | null;
  port: number;
  consolePort: number;
  dataDir: string;
  /** ISO time the current process became ready, or null. */
  readySince: string | null;
  restarts: number;
  lastExit: ExitInfo | null;
  /** The reason for state `failed`, with the last lines of the server's log. */
  error: string | null;
}

/** `<stateDir>/status.json`: written by the supervisor on every change, read by `status` and `down`. */
export interface RuntimeStatus {
  version: 1;
  supervisorPid: number;
  startedAt: string;
  engine: EngineKind;
  engineVersion: string;
  proxy: { listen: string; url: string };
  tenants: TenantRuntime[];
}

export async function writeRuntimeStatus(file: string, status: RuntimeStatus): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(status, null, 2)}\n`, 0o644);
}

/** Returns undefined when there is no status file or it cannot be parsed (a supervisor never ran). */
export async function readRuntimeStatus(file: string): Promise<RuntimeStatus | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as RuntimeStatus;
    return data.version === 1 && Array.isArray(data.tenants) ? data : undefined;
  } catch {
    return undefined;
  }
}
