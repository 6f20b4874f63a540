import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRoutesFile } from '../../src/routing/routes-file.js';
import { startDevServer, type DevServerHandle } from '../devserver/helpers.js';
import { Cleanup, route, sigV4, startEchoUpstream } from './helpers.js';

/**
 * The proxy as `minio-tenants proxy`, a separate process whose memory can be read from
 * /proc. Tests run after `tsc`, which `npm test` does first, because the CLI runs from dist/.
 */

const CLI = fileURLToPath(new URL('../../bin/minio-tenants.js', import.meta.url));
const MiB = 1024 * 1024;
const run = promisify(execFile);
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface ProxyProcess {
  child: ChildProcess;
  url: string;
}

/** Starts a proxy process with `args` (a script and its arguments) and waits for its URL on stdout. */
async function startProxyProcess(args: string[]): Promise<ProxyProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.add(() => stopProcess(child));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start within 10 s; output:\n${output}`)), 10_000);
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /proxy listening on (https?:\/\/\S+),/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited with ${String(code)}; output:\n${output}`));
    });
  });
  return { child, url };
}

/** Sends SIGTERM to the child by pid, then SIGKILL after 5 s, and waits for its exit. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Reads VmRSS and VmHWM (peak RSS) of a process from /proc, in bytes. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Samples a process's memory every 100 ms until stopped; returns the peak seen and the kernel's own peak. */
function sampleMemory(pid: number): { stop: () => Promise<{ maxRss: number; peak: number; samples: number }> } {
  let maxRss = 0;
  let peak = 0;
  let samples = 0;
  const timer = setInterval(() => {
    void memoryOf(pid)
      .then((memory) => {
        maxRss = Math.max(maxRss, memory.rss);
        peak = Math.max(peak, memory.peak);
        samples += 1;
      })
      .catch(() => undefined);
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      const last = await memoryOf(pid);
      return { maxRss: Math.max(maxRss, last.rss), peak: Math.max(peak, last.peak), samples };
    },
  };
}

/**
 * Returns a stream of `size` bytes made of one random 1 MiB block with the chunk number
 * in its first 8 bytes, and their SHA-256 once read. It is cheaper to make than
 * generatedBody, so the test process does not slow the transfer down. The bytes still
 * differ per MiB, so a reordered or repeated chunk changes the hash.
 */
function cheapBody(size: number): { stream: Readable; sha256: Promise<string> } {
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  let sent = 0;
  let resolveHash: (hex: string) => void = () => undefined;
  const sha256 = new Promise<string>((resolve) => {
    resolveHash = resolve;
  });
  const stream = new Readable({
    read() {
      if (sent >= size) {
        resolveHash(hash.digest('hex'));
        this.push(null);
        return;
      }
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, size - sent)));
      chunk.writeBigUInt64LE(BigInt(sent / MiB), 0);
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

/** Streams `size` bytes to a presigned PUT URL; resolves with the status and the SHA-256 sent. */
function putStream(url: string, size: number): Promise<{ status: number; sha256: Promise<string> }> {
  const body = cheapBody(size);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'Content-Length': size }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: body.sha256 }));
    });
    req.on('error', reject);
    body.stream.pipe(req);
  });
}

/** Streams a browser POST upload of `size` file bytes with the given policy fields; resolves with the status. */
function postFormStream(url: string, fields: Record<string, string>, size: number): Promise<number> {
  const boundary = 'processTestBoundary';
  const head = Buffer.from(
    Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="form.bin"\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const file = cheapBody(size);
  const body = Readable.from(
    (async function* () {
      yield head;
      yield* file.stream;
      yield tail;
    })(),
  );
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + size + tail.length };
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    body.pipe(req);
  });
}

/** Downloads a presigned GET URL and returns its size and SHA-256 without keeping the bytes. */
function getSha256(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Sends a signed GET over HTTPS, trusting `ca` (or the system CAs when undefined), and returns the status. */
function httpsStatus(url: string, ca: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false, headers: { Authorization: sigV4('AKIACLITLS') } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('proxy process', () => {
  // MEMORY BOUND, not speed: 1 GiB each way and a 256 MiB form through a proxy process,
  // about 20 s on 2 cores.
  it('streams 1 GiB each way in under 150 MiB RSS', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-process-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const tenant: DevServerHandle = await startDevServer();
    cleanup.add(() => tenant.stop().then(() => undefined));
    const routesFile = join(dir, 'routes.json');
    await writeRoutesFile(routesFile, [route('big', tenant.url, [tenant.accessKey])]);
    const proxy = await startProxyProcess([CLI, 'proxy', '--routes', routesFile, '--listen', '127.0.0.1:0']);
    const client = new S3Client({
      endpoint: proxy.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey },
      maxAttempts: 1,
    });
    cleanup.add(() => client.destroy());
    await client.send(new CreateBucketCommand({ Bucket: 'big' }));
    const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'big', Key: 'one-gib.bin' }), { expiresIn: 600 });
    const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'big', Key: 'one-gib.bin' }), { expiresIn: 600 });
    const size = 1024 * MiB;
    const before = await memoryOf(proxy.child.pid!);

    const sampler = sampleMemory(proxy.child.pid!);
    const started = Date.now();
    const upload = await putStream(putUrl, size);
    const uploaded = Date.now();
    const download = await getSha256(getUrl);
    const downloaded = Date.now();
    const post = await createPresignedPost(client, { Bucket: 'big', Key: 'form.bin', Expires: 600 });
    const formStatus = await postFormStream(post.url, post.fields, 256 * MiB);
    const memory = await sampler.stop();
    console.log(
      `1 GiB PUT ${((uploaded - started) / 1000).toFixed(1)} s, GET ${((downloaded - uploaded) / 1000).toFixed(1)} s, ` +
        `256 MiB form ${((Date.now() - downloaded) / 1000).toFixed(1)} s (for the record, not asserted)`,
    );

    console.log(
      `proxy RSS: ${(before.rss / MiB).toFixed(1)} MiB before, max sampled ${(memory.maxRss / MiB).toFixed(1)} MiB, ` +
        `VmHWM ${(memory.peak / MiB).toFixed(1)} MiB over ${memory.samples} samples`,
    );
    expect(upload.status).toBe(200);
    expect(download.status).toBe(200);
    expect(download.bytes).toBe(size);
    expect(download.sha256).toBe(await upload.sha256);
    expect(formStatus).toBe(204);
    const formObject = await client.send(new HeadObjectCommand({ Bucket: 'big', Key: 'form.bin' }));
    expect(formObject.ContentLength).toBe(256 * MiB);
    expect(memory.samples).toBeGreaterThan(10);
    expect(memory.peak).toBeLessThan(150 * MiB);
  });

  it('serves HTTPS from --tls-cert and --tls-key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-process-tls-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const certFile = join(dir, 'proxy.crt');
    const keyFile = join(dir, 'proxy.key');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=cli', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const upstream = await startEchoUpstream('a', cleanup);
    const routesFile = join(dir, 'routes.json');
    await writeRoutesFile(routesFile, [route('a', upstream.url, ['AKIACLITLS'])]);

    const proxy = await startProxyProcess([CLI, 'proxy', '--routes', routesFile, '--listen', '127.0.0.1:0', '--tls-cert', certFile, '--tls-key', keyFile]);
    const untrusted = await httpsStatus(`${proxy.url}/b/k`, undefined).catch((error: Error) => error);
    const trusted = await httpsStatus(`${proxy.url}/b/k`, await readFile(certFile));

    expect(proxy.url.startsWith('https://127.0.0.1:')).toBe(true);
    expect(untrusted).toBeInstanceOf(Error);
    expect(trusted).toBe(200);
  });
});
