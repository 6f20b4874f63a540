import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/tenants.js';
import { assertExecutable, listKeysDirect, s3ClientAt, sha256Of, startTenantPair, stopTenantPair, type TenantPair } from '../clients/helpers/tenant-pair.js';
import { CHROMIUM, closeChromium, launchChromium, type HeadlessChromium } from './chromium.js';

/**
 * A real browser against the proxy: the HTML form that `presign post --html` writes, and
 * a presigned PUT sent by page script from another origin, which needs a CORS preflight.
 */

const BUCKET = 'uploads';
const FORM_FILE_BODY = Buffer.from(Array.from({ length: 300_000 }, (_, index) => (index * 31) % 251));
const FETCH_BODY = Buffer.from(Array.from({ length: 200_000 }, (_, index) => (index * 17) % 253));

let pair: TenantPair | undefined;
let browser: HeadlessChromium | undefined;
let pageServer: Server | undefined;
let pageOrigin: string;

beforeAll(async () => {
  await assertExecutable(CHROMIUM, 'chromium');
  pair = await startTenantPair();
  // Both tenants get the bucket, so an upload routed to the wrong tenant would succeed there.
  for (const tenant of [pair.alice, pair.bob]) {
    const client = s3ClientAt(pair.proxyEndpoint, tenant);
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    client.destroy();
  }

  const formFile = join(pair.scratchDir, 'upload-form.html');
  const presigned = await cli(pair.workspace, ['presign', 'alice', 'post', BUCKET, '--key-prefix', 'from-form/', '--max-size', '1MiB', '--html', formFile]);
  expect(presigned.exitCode, presigned.stderr).toBe(0);
  pageServer = await startPageServer(await readFile(formFile, 'utf8'));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  if (browser !== undefined) {
    const survivors = await closeChromium(browser);
    expect(survivors, 'Chromium processes alive after close').toEqual([]);
  }
  pageServer?.closeAllConnections();
  pageServer?.close();
  await stopTenantPair(pair);
});

/**
 * Serves the form page and a blank page on 127.0.0.1, because a page opened from file://
 * has the origin "null".
 */
async function startPageServer(formHtml: string): Promise<Server> {
  const server = createServer((req, res) => {
    const body = req.url === '/form.html' ? formHtml : '<!DOCTYPE html><html><head><meta charset="utf-8"><title>blank</title></head><body></body></html>';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function readDirect(key: string): Promise<Buffer> {
  const tenants = pair as TenantPair;
  const client = s3ClientAt(tenants.aliceDirectEndpoint, tenants.alice);
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  client.destroy();
  return Buffer.from(bytes);
}

async function bobKeys(): Promise<string[]> {
  const tenants = pair as TenantPair;
  const client = s3ClientAt(tenants.proxyEndpoint, tenants.bob);
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  client.destroy();
  return (listed.Contents ?? []).map((entry) => entry.Key ?? '');
}

describe('browser upload form through the proxy', () => {
  it('stores the chosen file in alice', async () => {
    const page = await (browser as HeadlessChromium).context.newPage();
    await page.goto(`${pageOrigin}/form.html`);
    await page.setInputFiles('input[type="file"]', { name: 'photo.bin', mimeType: 'application/octet-stream', buffer: FORM_FILE_BODY });

    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.request().method() === 'POST', { timeout: 30_000 }),
      page.click('button[type="submit"]'),
    ]);
    expect(response.url()).toBe(`${(pair as TenantPair).proxyEndpoint}/${BUCKET}`);
    expect(response.status()).toBe(201);
    expect(await response.text()).toContain('<Key>from-form/photo.bin</Key>');
    await page.close();

    expect(sha256Of(await readDirect('from-form/photo.bin'))).toBe(sha256Of(FORM_FILE_BODY));
    expect(await bobKeys()).toEqual([]);
  });
});

describe('browser fetch of a presigned PUT', () => {
  it('passes the preflight and stores the body', async () => {
    const tenants = pair as TenantPair;
    const presigned = await cli(tenants.workspace, ['presign', 'alice', 'put', `${BUCKET}/from-fetch/data.bin`]);
    expect(presigned.exitCode, presigned.stderr).toBe(0);
    const putUrl = presigned.stdout.trim();

    const page = await (browser as HeadlessChromium).context.newPage();
    const cdp = await page.context().newCDPSession(page);
    const preflights: Array<{ method: string; url: string }> = [];
    // Chromium 156 reports a preflight with initiator type "preflight" and resource type "Other".
    cdp.on('Network.requestWillBeSent', (event: { initiator: { type: string }; request: { method: string; url: string } }) => {
      if (event.initiator.type === 'preflight') {
        preflights.push({ method: event.request.method, url: event.request.url });
      }
    });
    await cdp.send('Network.enable');
    await page.goto(`${pageOrigin}/blank.html`);

    // application/octet-stream is not a CORS-safelisted Content-Type, so the browser sends
    // a preflight first. https://fetch.spec.whatwg.org/#cors-safelisted-request-header
    const result = await page.evaluate(
      async ({ url, bytes }) => {
        const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'Content-Type': 'application/octet-stream' } });
        return { status: response.status, etag: response.headers.get('ETag') };
      },
      { url: putUrl, bytes: [...FETCH_BODY] },
    );
    await page.close();

    expect(result.status).toBe(200);
    expect(result.etag, 'ETag readable by page script through Access-Control-Expose-Headers').toMatch(/^"[0-9a-f]{32}"$/);
    expect(preflights).toEqual([{ method: 'OPTIONS', url: putUrl }]);
    expect(sha256Of(await readDirect('from-fetch/data.bin'))).toBe(sha256Of(FETCH_BODY));
    expect(await listKeysDirect(tenants, BUCKET)).toContain('from-fetch/data.bin');
    expect(await bobKeys()).toEqual([]);
  });

  it('preflight answered by alice', async () => {
    const tenants = pair as TenantPair;
    const presigned = await cli(tenants.workspace, ['presign', 'alice', 'put', `${BUCKET}/preflight.bin`]);
    const status = await preflight(presigned.stdout.trim(), pageOrigin);
    expect(status.statusCode).toBe(200);
    expect(status.allowOrigin).toBe(pageOrigin);
    expect(status.allowMethods).toContain('PUT');
  });
});

/** Sends a CORS preflight with node:http, which, unlike fetch, lets a test set Origin. */
function preflight(url: string, origin: string): Promise<{ statusCode: number; allowOrigin: string | undefined; allowMethods: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    outgoing.on('response', (response) => {
      response.resume();
      resolve({
        statusCode: response.statusCode ?? 0,
        allowOrigin: response.headers['access-control-allow-origin'],
        allowMethods: String(response.headers['access-control-allow-methods'] ?? ''),
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
