import { readFileSync } from 'node:fs';

/**
 * A failure that a dev server acts out on purpose, so that supervisor tests can watch real
 * processes misbehave. Enabled only through the MINIO_DEV_FAULT / MINIO_DEV_FAULT_FILE
 * environment variables; docs/devserver.md lists the syntax.
 */
export type Fault =
  | { kind: 'exit'; exitCode: number }
  | { kind: 'exit-after-requests'; requests: number; exitCode: number }
  | { kind: 'hang-before-ready' }
  | { kind: 'unhealthy-after-ms'; delayMs: number }
  | { kind: 'unhealthy-after-requests'; requests: number }
  | { kind: 'sts-expire-after-ms'; lifetimeMs: number };

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

const SYNTAX =
  'exit:CODE, exit-after-requests:N[:CODE], hang-before-ready, unhealthy-after-ms:MS, unhealthy-after-requests:N or sts-expire-after-ms:MS';

/** Parses a fault spec such as `exit-after-requests:5:3`. An empty spec or `none` means no fault. */
export function parseFaultSpec(spec: string): Fault | undefined {
  const text = spec.trim();
  if (text === '' || text === 'none') {
    return undefined;
  }

  const [kind = '', ...args] = text.split(':');
  switch (kind) {
    case 'exit':
      expectArgs(text, args, 1, 1);
      return { kind, exitCode: parseExitCode(text, args[0]) };
    case 'exit-after-requests':
      expectArgs(text, args, 1, 2);
      return {
        kind,
        requests: parseCount(text, args[0]),
        exitCode: args[1] === undefined ? 1 : parseExitCode(text, args[1]),
      };
    case 'hang-before-ready':
      expectArgs(text, args, 0, 0);
      return { kind };
    case 'unhealthy-after-ms':
      expectArgs(text, args, 1, 1);
      return { kind, delayMs: parseCount(text, args[0]) };
    case 'unhealthy-after-requests':
      expectArgs(text, args, 1, 1);
      return { kind, requests: parseCount(text, args[0]) };
    case 'sts-expire-after-ms':
      expectArgs(text, args, 1, 1);
      return { kind, lifetimeMs: parseCount(text, args[0]) };
    default:
      throw new FaultSpecError(`unknown fault "${text}"; expected one of ${SYNTAX}`);
  }
}

/**
 * Reads the fault from the environment: MINIO_DEV_FAULT wins, else the file named by
 * MINIO_DEV_FAULT_FILE. A missing file means no fault, so a test can delete the file and
 * restart the server to let it recover.
 */
export function readFault(env: NodeJS.ProcessEnv): Fault | undefined {
  const inline = env.MINIO_DEV_FAULT;
  if (inline !== undefined && inline.trim() !== '') {
    return parseFaultSpec(inline);
  }
  const file = env.MINIO_DEV_FAULT_FILE;
  if (file === undefined || file === '') {
    return undefined;
  }
  try {
    return parseFaultSpec(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function expectArgs(spec: string, args: string[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new FaultSpecError(`the fault "${spec}" has ${args.length} arguments; expected ${SYNTAX}`);
  }
}

function parseCount(spec: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new FaultSpecError(`the fault "${spec}" needs a non-negative integer, not "${value ?? ''}"`);
  }
  return Number(value);
}

function parseExitCode(spec: string, value: string | undefined): number {
  const code = parseCount(spec, value);
  if (code > 255) {
    throw new FaultSpecError(`the exit code in fault "${spec}" must be 0-255`);
  }
  return code;
}
