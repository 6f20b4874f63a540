import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import { startProxy } from '../../src/proxy/server.js';
import { startDevServer } from '../devserver/helpers.js';
import { Cleanup, route, send, sigV4, startEchoUpstream, startTestProxy, waitFor, type EchoReport } from './helpers.js';

const run = promisify(execFile);
const KEY = 'AKIATLSTENANT';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface CertFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  fingerprint256: string;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxy-tls-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates a self-signed certificate for 127.0.0.1 with the openssl CLI. */
async function selfSigned(dir: string, name: string): Promise<CertFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1',
  ]);
  const cert = await readFile(certFile);
  return { certFile, keyFile, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/** Replaces a file by rename, as certbot and most deploy tools do. */
async function replaceFile(target: string, source: string): Promise<void> {
  const staged = `${target}.staged`;
  await writeFile(staged, await readFile(source));
  await rename(staged, target);
}

/** Sends a signed GET over a new TLS connection and returns the server certificate's fingerprint and the echo. */
function httpsGet(url: string, ca: Buffer[]): Promise<{ fingerprint256: string; status: number; report: EchoReport }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/b/k`, { ca, agent: false, headers: { Authorization: sigV4(KEY) } }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ fingerprint256, status: res.statusCode ?? 0, report: JSON.parse(Buffer.concat(chunks).toString()) as EchoReport }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function headerValue(report: EchoReport, name: string): string | undefined {
  const index = report.rawHeaders.findIndex((value, i) => i % 2 === 0 && value.toLowerCase() === name);
  return index === -1 ? undefined : report.rawHeaders[index + 1];
}

describe('proxy TLS', () => {
  it('serves HTTPS with the configured certificate', async () => {
    const dir = await tempDir();
    const first = await selfSigned(dir, 'first');
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], { tls: { certFile: first.certFile, keyFile: first.keyFile } });

    const response = await httpsGet(proxy.url, [first.cert]);

    expect(proxy.url.startsWith('https://127.0.0.1:')).toBe(true);
    expect(response.status).toBe(200);
    expect(response.fingerprint256).toBe(first.fingerprint256);
    expect(headerValue(response.report, 'x-forwarded-proto')).toBe('https');
    expect(headerValue(response.report, 'x-forwarded-for')).toBe('127.0.0.1');
  });

  it('reloads a replaced certificate for new connections', async () => {
    const dir = await tempDir();
    const live = await selfSigned(dir, 'live');
    const next = await selfSigned(await tempDir(), 'next');
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], {
      tls: { certFile: live.certFile, keyFile: live.keyFile },
      limits: { reloadDebounceMs: 20, reloadPollIntervalMs: 200 },
    });
    const trusted = [live.cert, next.cert];
    expect((await httpsGet(proxy.url, trusted)).fingerprint256).toBe(live.fingerprint256);

    await replaceFile(live.keyFile, next.keyFile);
    await replaceFile(live.certFile, next.certFile);
    await waitFor(
      () => logs.some((record) => record.msg === 'tls certificate loaded' && record.fingerprint256 === next.fingerprint256),
      'the reload of the new certificate',
    );
    const seen = (await httpsGet(proxy.url, trusted)).fingerprint256;

    expect(seen).toBe(next.fingerprint256);
  });

  it('keeps the previous certificate when the new one is invalid', async () => {
    const dir = await tempDir();
    const live = await selfSigned(dir, 'live');
    const other = await selfSigned(await tempDir(), 'other');
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy, logs } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], {
      tls: { certFile: live.certFile, keyFile: live.keyFile },
      limits: { reloadDebounceMs: 20, reloadPollIntervalMs: 200 },
    });

    // A certificate whose key is not the one on disk.
    await replaceFile(live.certFile, other.certFile);
    await waitFor(() => logs.some((record) => record.msg === 'tls certificate rejected, keeping the previous one'), 'the rejection log');
    const afterMismatch = await httpsGet(proxy.url, [live.cert, other.cert]);
    await writeFile(`${live.certFile}.staged`, 'not a certificate');
    await rename(`${live.certFile}.staged`, live.certFile);
    await waitFor(() => logs.filter((record) => record.msg === 'tls certificate rejected, keeping the previous one').length >= 2, 'the second rejection');
    const afterGarbage = await httpsGet(proxy.url, [live.cert, other.cert]);

    expect(afterMismatch.fingerprint256).toBe(live.fingerprint256);
    expect(afterGarbage.fingerprint256).toBe(live.fingerprint256);
    const rejection = logs.find((record) => record.msg === 'tls certificate rejected, keeping the previous one');
    expect(rejection?.certFile).toBe(live.certFile);
    const keyText = (await readFile(live.keyFile, 'utf8')).split('\n')[1] as string;
    expect(JSON.stringify(logs)).not.toContain(keyText);
  });

  it('rejects a mismatched key at start', async () => {
    const first = await selfSigned(await tempDir(), 'first');
    const second = await selfSigned(await tempDir(), 'second');
    const dir = await tempDir();

    const started = startProxy({ routesFile: join(dir, 'routes.json'), listen: '127.0.0.1:0', tls: { certFile: first.certFile, keyFile: second.keyFile } });

    const error = await started.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(TenantsError);
    expect((error as TenantsError).code).toBe('PROXY_TLS_INVALID');
    expect((error as Error).message).toContain(first.certFile);
    expect((error as Error).message).toContain(second.keyFile);
  });

  it('survives a plain HTTP request on the TLS port', async () => {
    const dir = await tempDir();
    const first = await selfSigned(dir, 'first');
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], { tls: { certFile: first.certFile, keyFile: first.keyFile } });

    const plain = await send(`http://127.0.0.1:${proxy.port}`, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] }).catch((error: Error) => error);
    const secure = await httpsGet(proxy.url, [first.cert]);

    expect(plain).toBeInstanceOf(Error);
    expect(secure.status).toBe(200);
    expect(secure.report.upstream).toBe('a');
  });

  it('carries signed S3 requests to a development server', async () => {
    const dir = await tempDir();
    const certificate = await selfSigned(dir, 'sdk');
    const tenant = await startDevServer();
    cleanup.add(() => tenant.stop().then(() => undefined));
    const { proxy } = await startTestProxy(cleanup, [route('dev', tenant.url, [tenant.accessKey])], {
      tls: { certFile: certificate.certFile, keyFile: certificate.keyFile },
    });
    const client = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
      requestHandler: { httpsAgent: new https.Agent({ ca: certificate.cert }) },
    });
    cleanup.add(() => client.destroy());

    await client.send(new CreateBucketCommand({ Bucket: 'over-tls' }));
    await client.send(new PutObjectCommand({ Bucket: 'over-tls', Key: 'k', Body: 'sent over HTTPS' }));
    const object = await client.send(new GetObjectCommand({ Bucket: 'over-tls', Key: 'k' }));

    // The server checks each signature, which the added X-Forwarded-* headers must not break.
    expect(await object.Body!.transformToString()).toBe('sent over HTTPS');
  });
});
