import type { Command } from 'commander';
import { readTenantCredentials } from '../state/tenant-store.js';
import { configPathOf, printJson } from './output.js';

export function registerCreds(program: Command): void {
  program
    .command('creds')
    .description("Print a tenant's endpoint, access key and secret key")
    .argument('<name>', 'tenant name as in tenants.yaml')
    .option('--json', 'print {name, endpoint, accessKey, secretKey} as JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const tenant = await readTenantCredentials(configPathOf(command), name);
      if (options.json === true) {
        printJson({ name: tenant.name, endpoint: tenant.endpoint, accessKey: tenant.accessKey, secretKey: tenant.secretKey });
        return;
      }
      process.stdout.write(
        [`tenant:     ${tenant.name}`, `endpoint:   ${tenant.endpoint}`, `access key: ${tenant.accessKey}`, `secret key: ${tenant.secretKey}`, ''].join('\n'),
      );
    });
}
