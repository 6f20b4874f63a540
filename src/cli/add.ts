import { InvalidArgumentError, type Command } from 'commander';
import { displayPath } from '../config/load.js';
import { TenantsError } from '../errors.js';
import type { Credentials } from '../state/credentials.js';
import { statePaths } from '../state/paths.js';
import { addTenant, type AddedTenant } from '../state/tenant-store.js';
import { findRunningSupervisor } from '../supervisor/supervisor-lock.js';
import { applyToRunningSupervisor } from './live-change.js';
import { configPathOf, printJson } from './output.js';

interface AddOptions {
  port?: number;
  reuseData?: boolean;
  accessKey?: string;
  secretKey?: string;
  json?: boolean;
}

export function registerAdd(program: Command): void {
  program
    .command('add')
    .description('Add a tenant: create its keys, reserve its ports and append it to tenants.yaml')
    .argument('<name>', 'tenant name: lowercase letters, digits and hyphens, 1 to 63 characters')
    .option('--port <port>', 'fixed TCP port (1-65535) for the tenant\'s S3 API, written to tenants.yaml (default: the lowest unused port of ports.from-ports.to)', parsePort)
    .option('--access-key <key>', 'access key, at least 3 characters without "=" or "," (default: 20 random characters A-Z0-9)')
    .option(
      '--secret-key <key>',
      'secret key, at least 8 characters (default: 40 random characters); "-" reads it from standard input, which keeps it out of the process list',
    )
    .option('--reuse-data', "let the tenant start on an existing, non-empty <dataDir>/<name>, such as a removed tenant's data")
    .option('--json', 'print {name, accessKey, secretKey, endpoint, port} as JSON')
    .addHelpText(
      'after',
      '\nThe tenant also gets a console port from ports.from-ports.to. Give both keys or neither.\n' +
        'The secret key is printed only here and by `minio-tenants creds`.',
    )
    .action(async (name: string, options: AddOptions, command: Command) => {
      const credentials = await requestedCredentials(options);
      const added = await addTenant(configPathOf(command), { name, port: options.port, credentials, reuseData: options.reuseData });
      const paths = statePaths(added.stateDir);
      const supervisorRuns = (await findRunningSupervisor(paths)) !== undefined;
      printAdded(added, options.json === true, supervisorRuns);
      if (supervisorRuns) {
        await applyToRunningSupervisor(paths);
      }
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('expected an integer from 1 to 65535.');
  }
  return port;
}

/** Returns the keys given on the command line, or undefined to generate them. */
async function requestedCredentials(options: AddOptions): Promise<Credentials | undefined> {
  const { accessKey, secretKey } = options;
  if (accessKey === undefined && secretKey === undefined) {
    return undefined;
  }
  if (accessKey === undefined || secretKey === undefined) {
    throw new TenantsError('INVALID_ARGUMENTS', 'give both --access-key and --secret-key, or neither to generate them');
  }
  return { accessKey, secretKey: secretKey === '-' ? await readStandardInput() : secretKey };
}

/** Reads standard input to its end and drops one trailing line break. */
async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function printAdded(added: AddedTenant, json: boolean, supervisorRuns: boolean): void {
  if (json) {
    const { name, accessKey, secretKey, endpoint, port } = added;
    printJson({ name, accessKey, secretKey, endpoint, port });
    return;
  }
  const created = added.createdConfig ? ' (created it)' : '';
  process.stdout.write(
    [
      `Added tenant ${added.name} to ${displayPath(added.configFile)}${created}.`,
      `endpoint:   ${added.endpoint}`,
      `access key: ${added.accessKey}`,
      `secret key: ${added.secretKey}`,
      `ports:      ${added.port} (S3 API), ${added.consolePort} (console)`,
      supervisorRuns ? 'The running supervisor starts its server now.' : 'Run `minio-tenants up` to start its server.',
      '',
    ].join('\n'),
  );
}
