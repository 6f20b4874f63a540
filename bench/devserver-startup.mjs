// Measures minio-dev-server start-up time (spawn to /minio/health/live returning 200) and
// resident memory, for one server and for 20 at once, plus the memory of one server while
// it receives a 1 GiB streamed PUT. Uses node built-ins only; run `npm run build` first.
//
//   npm run bench:devserver
//
// Every server listens on 127.0.0.1 and is stopped by pid at the end.
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/minio-dev-server.js', import.meta.url));
const GROUP_SIZE = 20;
const UPLOAD_BYTES = 1024 ** 3;
const ACCESS_KEY = 'benchadmin';
const SECRET_KEY = randomBytes(18).toString('base64url');

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

async function waitLive(port, child, deadlineMs) {
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`server on port ${port} exited with code ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/minio/health/live', timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`server on port ${port} was not live in time`);
}

async function startServer() {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'devserver-bench-'));
  const startedNs = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'server', '--address', `127.0.0.1:${port}`, dataDir], {
    env: { ...process.env, MINIO_ROOT_USER: ACCESS_KEY, MINIO_ROOT_PASSWORD: SECRET_KEY },
    stdio: 'ignore',
  });
  await waitLive(port, child, Date.now() + 30_000);
  const startupMs = Number(process.hrtime.bigint() - startedNs) / 1e6;
  return { port, dataDir, child, startupMs };
}

async function stopServer(server) {
  if (server.child.exitCode === null) {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    process.kill(server.child.pid, 'SIGTERM');
    const timer = setTimeout(() => process.kill(server.child.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(server.dataDir, { recursive: true, force: true });
}

/** Minimal SigV4 for a header-signed request with an UNSIGNED-PAYLOAD body. */
function signedHeaders(method, port, path) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const host = `127.0.0.1:${port}`;
  const canonical = [method, path, '', `host:${host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:${amzDate}\n`, 'host;x-amz-content-sha256;x-amz-date', 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET_KEY}`, date), 'us-east-1'), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return {
    host,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
  };
}

function send(method, port, path, body, extraHeaders = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...signedHeaders(method, port, path), ...extraHeaders } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

/** Streams UPLOAD_BYTES in 1 MiB writes and samples the server's RSS while it receives them. */
async function measureUpload(server) {
  await send('PUT', server.port, '/bench', undefined);
  const chunk = randomBytes(1024 * 1024);
  let peakKiB = await rssKiB(server.child.pid);
  const sampler = setInterval(async () => {
    peakKiB = Math.max(peakKiB, await rssKiB(server.child.pid).catch(() => 0));
  }, 50);
  const startedNs = process.hrtime.bigint();
  const status = await send('PUT', server.port, '/bench/one-gib.bin', (req) => {
    let written = 0;
    const writeMore = () => {
      while (written < UPLOAD_BYTES) {
        written += chunk.length;
        if (!req.write(chunk)) return req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  }, { 'content-length': String(UPLOAD_BYTES) });
  clearInterval(sampler);
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  if (status !== 200) throw new Error(`the 1 GiB PUT failed with status ${status}`);
  return { peakKiB, seconds };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const rows = [];

  const single = await startServer();
  rows.push(['one server: start-up to health 200', `${single.startupMs.toFixed(0)} ms`]);
  rows.push(['one server: RSS when idle', `${((await rssKiB(single.child.pid)) / 1024).toFixed(1)} MiB`]);
  const upload = await measureUpload(single);
  rows.push(['one server: peak RSS during a 1 GiB PUT', `${(upload.peakKiB / 1024).toFixed(1)} MiB`]);
  rows.push(['one server: 1 GiB PUT throughput', `${(1024 / upload.seconds).toFixed(0)} MiB/s`]);
  await stopServer(single);

  const groupStartedNs = process.hrtime.bigint();
  const group = await Promise.all(Array.from({ length: GROUP_SIZE }, () => startServer()));
  const groupMs = Number(process.hrtime.bigint() - groupStartedNs) / 1e6;
  try {
    const rss = await Promise.all(group.map((server) => rssKiB(server.child.pid)));
    const total = rss.reduce((sum, value) => sum + value, 0);
    rows.push([`${GROUP_SIZE} servers: all live after`, `${groupMs.toFixed(0)} ms`]);
    rows.push([`${GROUP_SIZE} servers: median start-up`, `${median(group.map((server) => server.startupMs)).toFixed(0)} ms`]);
    rows.push([`${GROUP_SIZE} servers: total RSS`, `${(total / 1024).toFixed(1)} MiB`]);
    rows.push([`${GROUP_SIZE} servers: RSS per server`, `${(total / GROUP_SIZE / 1024).toFixed(1)} MiB`]);
  } finally {
    await Promise.all(group.map(stopServer));
  }

  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`| ${'measure'.padEnd(width)} | value |`);
  console.log(`|${'-'.repeat(width + 2)}|-------|`);
  for (const [name, value] of rows) console.log(`| ${name.padEnd(width)} | ${value} |`);
}

await main();
