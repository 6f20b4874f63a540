import { pino, type Logger as PinoLogger } from 'pino';

/**
 * Structured logger: one JSON line per event, the bound fields (tenant, pid, port)
 * first and a short lowercase message, such as `logger.info({ tenant, pid }, 'server ready')`.
 * Never pass a secret key, a signature or an Authorization header to it.
 */
export type Logger = PinoLogger;

export interface LoggerOptions {
  /** A file to append to; standard error when missing. */
  file?: string;
  level?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: options.file ?? 2, sync: true, mkdir: true });
  return pino(
    {
      level: options.level ?? process.env.MINIO_TENANTS_LOG_LEVEL ?? 'info',
      base: undefined,
      // Defence in depth: these field names are dropped wherever they appear.
      redact: { paths: ['secretKey', '*.secretKey', 'authorization', '*.authorization'], remove: true },
    },
    destination,
  );
}

/** A logger that discards everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
