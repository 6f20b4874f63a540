import { DURATION_PATTERN, SIZE_PATTERN } from './units.js';

/**
 * JSON schema of tenants.yaml as parsed from YAML. Every object rejects unknown keys, so a
 * misspelt key is an error and not a silently ignored setting. Checks that span several
 * values (tenant names, port ranges, duplicate ports) live in validate.ts.
 */
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const nonEmptyString = { type: 'string', minLength: 1 } as const;
const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const size = { type: 'string', pattern: SIZE_PATTERN } as const;

export const TENANT_KEYS = ['port', 'dataDir', 'hosts'] as const;

const tenantSchema = {
  // `alice:` parses as null and means a tenant with every default.
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    port,
    dataDir: nonEmptyString,
    hosts: { type: 'array', items: nonEmptyString, uniqueItems: true },
  },
} as const;

export const CONFIG_SCHEMA = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    stateDir: nonEmptyString,
    dataDir: nonEmptyString,
    server: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        command: nonEmptyString,
        args: { type: 'array', items: { type: 'string' } },
        env: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
        flavor: { type: 'string', enum: ['auto', 'legacy', 'current'] },
      },
    },
    proxy: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        listen: nonEmptyString,
        publicUrl: nonEmptyString,
        // An integer from 1 to 64 or `auto`, checked in validate.ts for a clearer message than oneOf gives.
        workers: { type: ['number', 'string'] },
        // Empty (null) means plain HTTP; both paths are needed for HTTPS.
        tls: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['cert', 'key'],
          properties: { cert: nonEmptyString, key: nonEmptyString },
        },
      },
    },
    ports: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { from: port, to: port },
    },
    supervisor: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        readyTimeout: duration,
        stopTimeout: duration,
        healthInterval: duration,
        unhealthyAfter: duration,
        restartDelay: duration,
        maxRestartDelay: duration,
        stableAfter: duration,
        maxCrashes: { type: 'integer', minimum: 1, maximum: 1000 },
        crashWindow: duration,
      },
    },
    logs: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        maxSize: size,
        keep: { type: 'integer', minimum: 1, maximum: 100 },
      },
    },
    tenants: { type: ['object', 'null'], additionalProperties: tenantSchema },
  },
} as const;

/** tenants.yaml after the schema check: every key optional, an empty section may be null. */
export interface RawConfig {
  stateDir?: string;
  dataDir?: string;
  server?: {
    command?: string;
    args?: string[];
    env?: Record<string, string> | null;
    flavor?: 'auto' | 'legacy' | 'current';
  } | null;
  proxy?: { listen?: string; publicUrl?: string; workers?: number | 'auto'; tls?: { cert: string; key: string } | null } | null;
  ports?: { from?: number; to?: number } | null;
  supervisor?: Partial<Record<SupervisorDurationKey, string>> & { maxCrashes?: number } | null;
  logs?: { maxSize?: string; keep?: number } | null;
  tenants?: Record<string, RawTenant | null> | null;
}

export type SupervisorDurationKey =
  | 'readyTimeout'
  | 'stopTimeout'
  | 'healthInterval'
  | 'unhealthyAfter'
  | 'restartDelay'
  | 'maxRestartDelay'
  | 'stableAfter'
  | 'crashWindow';

export interface RawTenant {
  port?: number;
  dataDir?: string;
  hosts?: string[];
}
