/**
 * Base class for every error that minio-tenants reports to a user.
 *
 * `code` is stable and machine-readable (tests and `--json` output match on it),
 * `exitCode` is what the CLI exits with, and `cause` keeps the original error.
 */
export class TenantsError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TenantsError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Returns the `code` of a Node.js system error (ENOENT, EADDRINUSE, ...), or undefined. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
