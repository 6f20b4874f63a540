import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { errnoCode, TenantsError } from '../errors.js';
import {
  assertBucketName,
  DEFAULT_EXPIRES,
  parseExpires,
  parseKeyPrefix,
  parseMaxSize,
  parseObjectTarget,
  parseOperation,
} from '../presign/presign-arguments.js';
import type { PostFormRequest } from '../presign/presign-client.js';
import { FILE_FIELD_NAME, renderUploadFormHtml, type UploadForm } from '../presign/upload-form-html.js';
import { readTenantCredentials, type TenantCredentials } from '../state/tenant-store.js';
import { configPathOf, printJson } from './output.js';

/**
 * Loads the minio SDK only when presign runs: every command shares one module graph, and
 * the SDK would add about 35 MiB to the long-running supervisor of `up`.
 */
function loadPresignClient(): Promise<typeof import('../presign/presign-client.js')> {
  return import('../presign/presign-client.js');
}

interface PresignOptions {
  expires: string;
  keyPrefix?: string;
  maxSize?: string;
  json?: boolean;
  html?: string;
}

/** Options that shape a POST form and mean nothing for a presigned GET or PUT URL. */
const POST_ONLY_OPTIONS = [
  ['keyPrefix', '--key-prefix'],
  ['maxSize', '--max-size'],
  ['html', '--html'],
] as const;

export function registerPresign(program: Command): void {
  program
    .command('presign')
    .description("Print a presigned URL, or a browser upload form, on the proxy's public URL for a tenant's object")
    .argument('<tenant>', 'tenant name as in tenants.yaml')
    .argument('<operation>', 'get or put (a presigned URL), or post (a form upload policy)')
    .argument('<target>', 'bucket/key for get and put; bucket for post')
    .option(
      '--expires <duration>',
      'validity: a number followed by ms, s, m or h, or whole days with d, for example 90s, 15m, 12h, 7d; whole seconds from 1s to 7d',
      DEFAULT_EXPIRES,
    )
    .option('--key-prefix <prefix>', 'post: the form writes the key <prefix><name of the uploaded file> (default: no prefix)')
    .option('--max-size <size>', 'post: largest accepted file, in bytes or a number followed by B, KiB, MiB or GiB, for example 10MiB; at most 5GiB')
    .option('--json', 'print {url} for get and put, {url, fields} for post')
    .option('--html <file>', 'post: also write a minimal HTML page with the upload form to <file>')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  minio-tenants presign alice get photos/cat.jpg --expires 1h',
        '  minio-tenants presign alice put photos/cat.jpg',
        '  minio-tenants presign alice post photos --key-prefix uploads/ --max-size 10MiB --html upload.html',
      ].join('\n'),
    )
    .action(async (tenantName: string, operationText: string, target: string, options: PresignOptions, command: Command) => {
      const operation = parseOperation(operationText);
      const expiresSeconds = parseExpires(options.expires);
      if (operation !== 'post') {
        assertNoPostOptions(operation, options);
        const { bucket, key } = parseObjectTarget(target);
        const tenant = await readTenantCredentials(configPathOf(command), tenantName);
        const { presignClient, presignObjectUrl } = await loadPresignClient();
        const url = await presignObjectUrl(presignClient(tenant.endpoint, tenant), operation === 'get' ? 'GET' : 'PUT', bucket, key, expiresSeconds);
        printUrl(url, options.json === true);
        return;
      }

      const request = parsePostRequest(target, options, expiresSeconds);
      const tenant = await readTenantCredentials(configPathOf(command), tenantName);
      const { presignClient, presignPostForm } = await loadPresignClient();
      const form = await presignPostForm(presignClient(tenant.endpoint, tenant), tenant.endpoint, request);
      if (options.html !== undefined) {
        await writeUploadPage(options.html, form, tenant, request.bucket);
      }
      printForm(form, options.json === true);
    });
}

function assertNoPostOptions(operation: string, options: PresignOptions): void {
  for (const [property, flag] of POST_ONLY_OPTIONS) {
    if (options[property] !== undefined) {
      throw new TenantsError('INVALID_ARGUMENTS', `${flag} applies to post only, not to ${operation}; remove it or use "presign <tenant> post <bucket>"`);
    }
  }
}

function parsePostRequest(target: string, options: PresignOptions, expiresSeconds: number): PostFormRequest {
  if (target.includes('/')) {
    throw new TenantsError(
      'INVALID_ARGUMENTS',
      `post takes a bucket, got ${JSON.stringify(target)}; the key is the uploaded file's name, so give a key prefix with --key-prefix instead`,
    );
  }
  assertBucketName(target);
  return {
    bucket: target,
    keyPrefix: parseKeyPrefix(options.keyPrefix ?? ''),
    expiresSeconds,
    maxSizeBytes: options.maxSize === undefined ? undefined : parseMaxSize(options.maxSize),
  };
}

async function writeUploadPage(file: string, form: UploadForm, tenant: TenantCredentials, bucket: string): Promise<void> {
  try {
    await writeFile(file, renderUploadFormHtml(form, `Upload to ${bucket} (tenant ${tenant.name})`));
  } catch (error) {
    throw new TenantsError('HTML_WRITE_FAILED', `failed to write the upload form to ${file}: ${errnoCode(error) ?? (error as Error).message}; check that its directory exists and is writable`, {
      cause: error,
    });
  }
  process.stderr.write(`wrote the upload form to ${file}\n`);
}

function printUrl(url: string, json: boolean): void {
  if (json) {
    printJson({ url });
    return;
  }
  process.stdout.write(`${url}\n`);
}

function printForm(form: UploadForm, json: boolean): void {
  if (json) {
    printJson(form);
    return;
  }
  const lines = [
    `POST ${form.url}`,
    `multipart/form-data fields, in this order, then the file in the field "${FILE_FIELD_NAME}":`,
    ...Object.entries(form.fields).map(([name, value]) => `  ${name}: ${value}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
