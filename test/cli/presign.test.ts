import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import {
  assertBucketName,
  parseExpires,
  parseKeyPrefix,
  parseMaxSize,
  parseObjectTarget,
  parseOperation,
} from '../../src/presign/presign-arguments.js';
import { presignClient, presignObjectUrl, presignPostForm } from '../../src/presign/presign-client.js';
import { escapeHtml, renderUploadFormHtml } from '../../src/presign/upload-form-html.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { addTenants, cli, type AddedTenant } from '../helpers/tenants.js';

function errorOf(run: () => unknown): TenantsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantsError);
    return error as TenantsError;
  }
  throw new Error('expected a TenantsError, but nothing was thrown');
}

describe('parseObjectTarget', () => {
  it.each([
    ['photos/cat.jpg', 'photos', 'cat.jpg'],
    ['photos/2024/05/cat.jpg', 'photos', '2024/05/cat.jpg'],
    ['my.bucket-1/a b+c%20ü', 'my.bucket-1', 'a b+c%20ü'],
    ['abc//leading-slash', 'abc', '/leading-slash'],
    ['abc/dir/', 'abc', 'dir/'],
  ])('splits %j', (text, bucket, key) => {
    expect(parseObjectTarget(text)).toEqual({ bucket, key });
  });

  it.each([
    ['photos', 'has no object key'],
    ['photos/', 'has an empty object key'],
    ['/cat.jpg', 'invalid bucket name ""'],
    ['Photos/cat.jpg', 'lowercase letters, digits, dots and hyphens'],
    [`photos/${'k'.repeat(1025)}`, 'has 1025 bytes of UTF-8'],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseObjectTarget(text));
    expect(error.code).toBe('INVALID_ARGUMENTS');
    expect(error.message).toContain(message);
  });
});

describe('assertBucketName', () => {
  it.each(['abc', 'a'.repeat(63), 'photos.2024', 'my-bucket', '123'])('accepts %j', (bucket) => {
    expect(() => assertBucketName(bucket)).not.toThrow();
  });

  it.each([
    ['ab', 'it has 2 characters'],
    ['a'.repeat(64), 'it has 64 characters'],
    ['my_bucket', 'lowercase letters, digits, dots and hyphens'],
    ['-bucket', 'start and end with a lowercase letter or a digit'],
    ['bucket.', 'start and end with a lowercase letter or a digit'],
    ['my..bucket', 'two adjacent dots'],
    ['192.168.5.4', 'formatted as an IP address'],
  ])('rejects %j', (bucket, message) => {
    const error = errorOf(() => assertBucketName(bucket));
    expect(error.message).toContain(`invalid bucket name ${JSON.stringify(bucket)}`);
    expect(error.message).toContain(message);
  });
});

describe('parseExpires', () => {
  it.each([
    ['1s', 1],
    ['90s', 90],
    ['15m', 900],
    ['1.5m', 90],
    ['2000ms', 2],
    ['12h', 43_200],
    ['168h', 604_800],
    ['7d', 604_800],
    ['1d', 86_400],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseExpires(text)).toBe(seconds);
  });

  it.each([
    ['', 'expected a number followed by ms, s, m, h or d'],
    ['15', 'expected a number followed by ms, s, m, h or d'],
    ['15 minutes', 'expected a number followed by ms, s, m, h or d'],
    ['-5m', 'expected a number followed by ms, s, m, h or d'],
    ['1.5d', 'expected a number followed by ms, s, m, h or d'],
    ['1500ms', 'whole seconds; use for example 2s'],
    ['0s', 'S3 accepts 1s to 7d'],
    ['169h', 'S3 accepts 1s to 7d'],
    ['8d', 'S3 accepts 1s to 7d'],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseExpires(text));
    expect(error.code).toBe('INVALID_ARGUMENTS');
    expect(error.message).toContain(`invalid --expires ${JSON.stringify(text)}`);
    expect(error.message).toContain(message);
  });
});

describe('parseMaxSize', () => {
  it.each([
    ['1', 1],
    ['1048576', 1_048_576],
    ['512B', 512],
    ['10KiB', 10_240],
    ['10MiB', 10_485_760],
    ['5GiB', 5 * 1024 ** 3],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseMaxSize(text)).toBe(bytes);
  });

  it.each([
    ['', 'expected a whole number of bytes'],
    ['10MB', 'expected a whole number of bytes'],
    ['1.5MiB', 'expected a whole number of bytes'],
    ['-1', 'expected a whole number of bytes'],
    ['0', 'S3 accepts 1 byte to 5GiB'],
    ['6GiB', 'S3 accepts 1 byte to 5GiB'],
    [String(5 * 1024 ** 3 + 1), 'S3 accepts 1 byte to 5GiB'],
  ])('rejects %j', (text, message) => {
    const error = errorOf(() => parseMaxSize(text));
    expect(error.message).toContain(`invalid --max-size ${JSON.stringify(text)}`);
    expect(error.message).toContain(message);
  });
});

describe('parseOperation and parseKeyPrefix', () => {
  it.each([
    ['get', 'get'],
    ['PUT', 'put'],
    ['post', 'post'],
  ])('reads operation %j', (text, operation) => {
    expect(parseOperation(text)).toBe(operation);
  });

  it.each(['delete', 'head', ''])('rejects operation %j', (text) => {
    expect(errorOf(() => parseOperation(text)).message).toContain('use one of get, put, post');
  });

  it.each(['', 'uploads/', 'a/b/c-'])('accepts key prefix %j', (prefix) => {
    expect(parseKeyPrefix(prefix)).toBe(prefix);
  });

  it('rejects a key prefix over 1024 bytes', () => {
    expect(errorOf(() => parseKeyPrefix('ü'.repeat(513))).message).toContain('--key-prefix has 1026 bytes');
  });
});

describe('escapeHtml', () => {
  it.each([
    ['plain', 'plain'],
    ['a&b', 'a&amp;b'],
    ['<script>', '&lt;script&gt;'],
    ['say "hi"', 'say &quot;hi&quot;'],
    ["it's", 'it&#39;s'],
    ['&amp;', '&amp;amp;'],
    ['${filename}', '${filename}'],
  ])('escapes %j', (text, escaped) => {
    expect(escapeHtml(text)).toBe(escaped);
  });
});

describe('renderUploadFormHtml', () => {
  const form = {
    url: 'http://127.0.0.1:9000/photos?a=1&b="2"',
    fields: { key: 'up/<x>/${filename}', policy: 'eyJ+/=', 'x-"odd"': "v'1" },
  };
  const html = renderUploadFormHtml(form, 'Upload <to> photos & more');

  it('escapes the action, names, values and title', () => {
    expect(html).toContain('<form action="http://127.0.0.1:9000/photos?a=1&amp;b=&quot;2&quot;" method="post" enctype="multipart/form-data">');
    expect(html).toContain('<input type="hidden" name="key" value="up/&lt;x&gt;/${filename}">');
    expect(html).toContain('<input type="hidden" name="policy" value="eyJ+/=">');
    expect(html).toContain('<input type="hidden" name="x-&quot;odd&quot;" value="v&#39;1">');
    expect(html).toContain('<title>Upload &lt;to&gt; photos &amp; more</title>');
    expect(html).not.toContain('<x>');
    expect(html).not.toContain('<to>');
  });

  it('puts the file input after every field', () => {
    const fileInput = html.indexOf('<input type="file" name="file" required>');
    expect(fileInput).toBeGreaterThan(0);
    expect(html.lastIndexOf('type="hidden"')).toBeLessThan(fileInput);
    expect(html.indexOf('<button type="submit">')).toBeGreaterThan(fileInput);
  });
});

describe('presign URLs for each public URL', () => {
  const credentials = { accessKey: 'AKIDEXAMPLE1', secretKey: 'secret-key-example' };

  // Presigning runs locally, so these public URLs are never contacted.
  it.each([
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['https://s3.example.com', 'https://s3.example.com'],
    ['https://s3.example.com:8443', 'https://s3.example.com:8443'],
    ['http://files.example.com', 'http://files.example.com'],
    ['http://[::1]:9000', 'http://[::1]:9000'],
  ])('GET and POST on %s', async (publicUrl, origin) => {
    const client = presignClient(publicUrl, credentials);
    const url = new URL(await presignObjectUrl(client, 'GET', 'photos', 'dir/a b.txt', 60));
    expect(url.origin).toBe(origin);
    expect(url.pathname).toBe('/photos/dir/a%20b.txt');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');

    const form = await presignPostForm(client, publicUrl, { bucket: 'photos', keyPrefix: '', expiresSeconds: 60, maxSizeBytes: undefined });
    expect(form.url).toBe(`${origin}/photos`);
    expect(form.fields.key).toBe('${filename}');
  });

  it('rejects a public URL without http or https', () => {
    expect(() => presignClient('ftp://127.0.0.1:9000', credentials)).toThrow('must start with http:// or https://');
  });
});

describe('presign command', () => {
  let workspace: Workspace;
  let alice: AddedTenant;

  beforeAll(async () => {
    workspace = await makeWorkspace();
    const added = await addTenants(workspace, ['alice', 'bob']);
    alice = added.get('alice') as AddedTenant;
  });

  afterAll(async () => {
    await workspace?.cleanup();
  });

  it('prints a presigned GET URL on the public URL', async () => {
    const result = await cli(workspace, ['presign', 'alice', 'get', 'photos/a b.txt', '--expires', '1h']);
    expect(result.exitCode, result.stderr).toBe(0);
    const url = new URL(result.stdout.trim());
    expect(url.origin).toBe(`http://127.0.0.1:${workspace.proxyPort}`);
    expect(url.pathname).toBe('/photos/a%20b.txt');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${alice.accessKey}/[0-9]{8}/us-east-1/s3/aws4_request$`));
    expect(result.stdout).not.toContain(alice.secretKey);
  });

  it('prints a PUT URL as JSON with the default 15m', async () => {
    const result = await cli(workspace, ['presign', 'alice', 'put', 'photos/k', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const { url } = JSON.parse(result.stdout) as { url: string };
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('900');
  });

  it('prints post fields and writes the HTML form', async () => {
    const htmlFile = join(workspace.dir, 'upload.html');
    const result = await cli(workspace, ['presign', 'alice', 'post', 'photos', '--key-prefix', 'up/', '--max-size', '1MiB', '--json', '--html', htmlFile]);
    expect(result.exitCode, result.stderr).toBe(0);
    const form = JSON.parse(result.stdout) as { url: string; fields: Record<string, string> };
    expect(form.url).toBe(`http://127.0.0.1:${workspace.proxyPort}/photos`);
    expect(form.fields.key).toBe('up/${filename}');
    expect(form.fields.bucket).toBe('photos');
    expect(form.fields['x-amz-credential']).toContain(`${alice.accessKey}/`);

    const policy = JSON.parse(Buffer.from(form.fields.policy as string, 'base64').toString('utf8')) as { conditions: unknown[] };
    expect(policy.conditions).toContainEqual(['starts-with', '$key', 'up/']);
    expect(policy.conditions).toContainEqual(['content-length-range', 0, 1_048_576]);

    const html = await readFile(htmlFile, 'utf8');
    expect(html).toContain(`<form action="${form.url}" method="post" enctype="multipart/form-data">`);
    expect(html).toContain(`<input type="hidden" name="x-amz-signature" value="${form.fields['x-amz-signature']}">`);
    expect(result.stderr).toContain(`wrote the upload form to ${htmlFile}`);
  });

  it.each([
    [['presign', 'carol', 'get', 'photos/k'], 'unknown tenant "carol"', 'known tenants: alice, bob'],
    [['presign', 'alice', 'get', 'photos'], '"photos" has no object key', 'write bucket/key'],
    [['presign', 'alice', 'get', 'Photos/k'], 'invalid bucket name "Photos"', 'lowercase letters'],
    [['presign', 'alice', 'get', 'photos/k', '--expires', 'soon'], 'invalid --expires "soon"', 'for example 90s'],
    [['presign', 'alice', 'put', 'photos/k', '--expires', '8d'], 'invalid --expires "8d"', 'S3 accepts 1s to 7d'],
    [['presign', 'alice', 'post', 'photos', '--max-size', 'big'], 'invalid --max-size "big"', 'for example 10MiB'],
    [['presign', 'alice', 'get', 'photos/k', '--html', 'x.html'], '--html applies to post only', 'presign <tenant> post <bucket>'],
    [['presign', 'alice', 'post', 'photos/k'], 'post takes a bucket, got "photos/k"', '--key-prefix'],
    [['presign', 'alice', 'list', 'photos/k'], 'unknown presign operation "list"', 'get, put, post'],
    [['presign', 'alice', 'post', 'photos', '--html', '/nonexistent-dir/form.html'], 'failed to write the upload form to /nonexistent-dir/form.html: ENOENT', 'directory exists'],
  ])('rejects %j', async (args, problem, hint) => {
    const result = await cli(workspace, args);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout, result.stderr).toBe('');
    expect(result.stderr).toContain(problem);
    expect(result.stderr).toContain(hint);
  });

  it('names the units in --help', async () => {
    const result = await cli(workspace, ['presign', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('ms, s, m or h');
    expect(result.stdout).toContain('B, KiB, MiB or GiB');
  });
});
