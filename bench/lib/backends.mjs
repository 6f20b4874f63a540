// The two backends that every target forwards to: nginx responding from memory and disk
// (fast, written in C, so that the cost of the proxy in front of it shows), and the
// development server (a realistic S3 server that checks signatures and writes to disk).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHttp } from './network.mjs';
import { startNginx } from './nginx.mjs';
import { addFailureReport, makeTemporaryDir, startProcess } from './processes.mjs';

const DEV_SERVER = fileURLToPath(new URL('../../bin/minio-dev-server.js', import.meta.url));
const SINK_SERVER = fileURLToPath(new URL('./sink-server.mjs', import.meta.url));

/** The body of a small GET from the static backend, about the size of a small S3 object. */
export const SMALL_BODY = 'x'.repeat(256);

/**
 * nginx with one worker: `/large/FILE` serves files from its prefix (sendfile), every other
 * path gets 200 with SMALL_BODY whatever the method. Returns the prefix so that callers
 * can add files under `<prefix>/large/`.
 */
export async function startStaticBackend() {
  const port = await freePort();
  const root = await makeTemporaryDir('bench-static-root');
  await mkdir(join(root, 'large'));
  const backend = await startNginx({
    label: 'nginx-backend',
    workerProcesses: 1,
    readyPort: port,
    httpBlock: `  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location /large/ { root ${root}; sendfile on; tcp_nopush on; }
    location / { default_type text/plain; return 200 "${SMALL_BODY}"; }
  }`,
  });
  return { kind: 'static', port, root, ...backend };
}

/** Writes `bytes` random bytes to `<root>/large/<name>` of a static backend, in 1 MiB writes. */
export async function writeLargeFile(backend, name, bytes) {
  const file = await open(join(backend.root, 'large', name), 'w');
  const chunk = randomBytes(1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    await file.write(chunk, 0, Math.min(chunk.length, bytes - written));
  }
  await file.close();
}

/**
 * A node:http server that reads every request body to the end and then responds 200, for
 * large PUTs: nginx's `return` responds before the body has arrived, which is not how S3 behaves.
 */
export async function startSinkBackend() {
  const port = await freePort();
  const child = startProcess(process.execPath, [SINK_SERVER, String(port)], { label: 'sink-backend', stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForHttp(port, { child });
  return { kind: 'sink', port, child };
}

/**
 * Starts the development server with fresh root credentials. The secret goes to the child
 * in its environment only, as the supervisor passes it.
 */
export async function startDevServer() {
  const port = await freePort();
  const dataDir = await makeTemporaryDir('bench-devserver');
  // Its stderr goes to a file, because it reports every connection that wrk cuts at the end of a run.
  const logFile = join(await makeTemporaryDir('bench-devserver-log'), 'stderr.log');
  const log = await open(logFile, 'w');
  const credentials = { accessKeyId: `BENCH${randomBytes(6).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
  const child = startProcess(process.execPath, [DEV_SERVER, 'server', '--address', `127.0.0.1:${port}`, dataDir], {
    label: 'minio-dev-server',
    env: { ...process.env, MINIO_ROOT_USER: credentials.accessKeyId, MINIO_ROOT_PASSWORD: credentials.secretAccessKey },
    stdio: ['ignore', 'ignore', log.fd],
  });
  await log.close();
  addFailureReport(async () => {
    const lines = (await readFile(logFile, 'utf8')).trimEnd().split('\n');
    return `last lines of the development server's stderr (port ${port}):\n${lines.slice(-20).join('\n')}`;
  });
  await waitForHttp(port, { path: '/minio/health/live', child, isReady: (status) => status === 200 });
  return { kind: 'dev', port, child, dataDir, credentials };
}
