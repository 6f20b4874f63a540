import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/tenants.js';
import { bucketsOf, fetchSha256, listKeysDirect, s3ClientAt, sha256Of, startTenantPair, stopTenantPair, type TenantPair } from './helpers/tenant-pair.js';

/**
 * URLs and forms printed by `minio-tenants presign`, used with plain HTTP through the
 * proxy. They are signed for the proxy's public URL (the Host header is signed), so they
 * have no direct-to-server counterpart.
 */

const BUCKET = 'presigned';
const BODY = Buffer.from('uploaded with a presigned PUT\n'.repeat(1000));

let pair: TenantPair | undefined;

beforeAll(async () => {
  pair = await startTenantPair();
  const client = s3ClientAt(pair.proxyEndpoint, pair.alice);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  client.destroy();
}, 120_000);

afterAll(async () => {
  await stopTenantPair(pair);
});

async function presign(args: string[]): Promise<string> {
  const result = await cli((pair as TenantPair).workspace, ['presign', 'alice', ...args]);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

interface PostForm {
  url: string;
  fields: Record<string, string>;
}

/** Submits a POST form as a browser would: the fields in order, then the file. */
function submitForm(form: PostForm, fileName: string, body: Buffer): Promise<Response> {
  const data = new FormData();
  for (const [name, value] of Object.entries(form.fields)) {
    data.append(name, value);
  }
  data.append('file', new Blob([new Uint8Array(body)]), fileName);
  return fetch(form.url, { method: 'POST', body: data });
}

describe('presign command through the proxy', () => {
  it('PUT then GET round trip', async () => {
    const putUrl = (await presign(['put', `${BUCKET}/dir/put target.txt`])).trim();
    const put = await fetch(putUrl, { method: 'PUT', body: BODY });
    expect(put.status).toBe(200);

    const getUrl = (await presign(['get', `${BUCKET}/dir/put target.txt`, '--expires', '2m'])).trim();
    expect(await fetchSha256(getUrl)).toEqual({ status: 200, sha256: sha256Of(BODY) });
    expect(await listKeysDirect(pair as TenantPair, BUCKET)).toContain('dir/put target.txt');
  });

  it('POST form stores under the prefix', async () => {
    const form = JSON.parse(await presign(['post', BUCKET, '--key-prefix', 'forms/', '--max-size', '1MiB', '--json'])) as PostForm;
    const response = await submitForm(form, 'report.bin', BODY);
    expect(response.status, await response.clone().text()).toBe(201);
    expect(await response.text()).toContain('<Key>forms/report.bin</Key>');

    const client = s3ClientAt((pair as TenantPair).aliceDirectEndpoint, (pair as TenantPair).alice);
    const stored = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'forms/report.bin' }));
    expect(sha256Of(await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toBe(sha256Of(BODY));
    client.destroy();
    expect(await bucketsOf(pair as TenantPair, (pair as TenantPair).bob)).not.toContain(BUCKET);
  });

  it('POST form rejects a file over --max-size', async () => {
    const form = JSON.parse(await presign(['post', BUCKET, '--key-prefix', 'small/', '--max-size', '1KiB', '--json'])) as PostForm;
    const response = await submitForm(form, 'too-big.bin', Buffer.alloc(2048, 'x'));
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>EntityTooLarge</Code>');
    expect(await listKeysDirect(pair as TenantPair, BUCKET)).not.toContain('small/too-big.bin');
  });

  it('POST form rejects a key outside the prefix', async () => {
    const form = JSON.parse(await presign(['post', BUCKET, '--key-prefix', 'forms/', '--json'])) as PostForm;
    const response = await submitForm({ url: form.url, fields: { ...form.fields, key: 'elsewhere/${filename}' } }, 'x.bin', BODY);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>AccessDenied</Code>');
  });
});
