// Presigned POST uploads (browser form uploads of a 1 KiB file) through every target, to
// the nginx static backend and to the development server, which checks the policy's
// signature and stores each upload. The access key is only in the form's X-Amz-Credential
// field: the tenants proxy reads it from the start of the body (before form scanning was
// added, it routed by Host, and 127.0.0.1 belongs to the tenant), while nginx and HAProxy,
// whose maps see no key in the header or query, use their default upstream.
//
//   npm run bench:post     (BENCH_DURATION_S: seconds per run, default 3; BENCH_ROUNDS: default 3)
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDevServer, startStaticBackend } from './lib/backends.mjs';
import { fixed, machineLine, printTable, processTreeTicks, TICKS_PER_SECOND } from './lib/report.mjs';
import { makeTemporaryDir, runBenchmark, stopProcess } from './lib/processes.mjs';
import { presignPost, s3Client } from './lib/s3.mjs';
import { directTarget, routesTo, startHaproxyTarget, startNginxTarget, startTenantsProxy } from './lib/targets.mjs';
import { runWrk } from './lib/wrk.mjs';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 32;
const FILE_BYTES = 1024;

await runBenchmark(async () => {
  console.log(machineLine());
  const devServer = await startDevServer();
  await s3Client(devServer.port, devServer.credentials).send(new CreateBucketCommand({ Bucket: 'bench' }));
  const { url, fields } = await presignPost(devServer.port, devServer.credentials, 'bench', 'uploads/form.bin', FILE_BYTES);
  const form = await writeForm(fields);
  const path = new URL(url).pathname;

  const staticBackend = await startStaticBackend();
  const rows = [];
  for (const backend of [staticBackend, devServer]) {
    // The same key for both backends, because the proxy routes by the key in the form.
    const routes = routesTo(backend.port, devServer.credentials.accessKeyId);
    const targets = [directTarget(backend.port), await startTenantsProxy(routes), await startNginxTarget(routes), await startHaproxyTarget(routes)];
    try {
      const results = await measureTargets(targets, path, form);
      const nginx = results.find((result) => result.target.name.startsWith('nginx'));
      for (const { target, run } of results) {
        rows.push([
          backend.kind === 'dev' ? 'development server' : 'nginx static',
          target.name,
          fixed(run.requestsPerSecond),
          fixed(run.requestsPerSecond / nginx.run.requestsPerSecond, 2),
          target.name === 'direct' ? '-' : fixed(run.cpuUsPerRequest, 1),
          fixed(run.p50Ms, 2),
          fixed(run.p99Ms, 2),
        ]);
      }
    } finally {
      for (const target of targets) if (target.child !== undefined) await stopProcess(target.child);
    }
  }
  printTable(
    `Presigned POST uploads of ${FILE_BYTES} bytes (${form.bytes}-byte form, ${CONNECTIONS} connections, median of ${ROUNDS} runs of ${DURATION_S} s)`,
    ['backend', 'target', 'uploads/s', 'vs nginx', 'CPU µs/req', 'p50 ms', 'p99 ms'],
    rows,
  );
});

/** Writes the multipart/form-data body once; every request of the run sends the same form. */
async function writeForm(fields) {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const file = Buffer.concat([
    Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="form.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    randomBytes(FILE_BYTES),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const bodyFile = join(await makeTemporaryDir('bench-post-form'), 'form.txt');
  await writeFile(bodyFile, file);
  return { bodyFile, contentType: `multipart/form-data; boundary=${boundary}`, bytes: file.length };
}

async function measureTargets(targets, path, form) {
  const requestFor = (target) => ({
    url: `http://127.0.0.1:${target.port}${path}`,
    method: 'POST',
    bodyFile: form.bodyFile,
    headers: { 'Content-Type': form.contentType },
    connections: CONNECTIONS,
  });
  for (const target of targets) await runWrk({ ...requestFor(target), durationS: 1 });

  const runs = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, target] of targets.entries()) {
      const ticksBefore = await processTreeTicks(target.pids);
      const run = await runWrk({ ...requestFor(target), durationS: DURATION_S });
      run.cpuUsPerRequest = (((await processTreeTicks(target.pids)) - ticksBefore) * 1e6) / TICKS_PER_SECOND / run.requests;
      runs[i].push(run);
    }
  }
  return targets.map((target, i) => {
    const sorted = runs[i].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
    return { target, run: sorted[Math.floor(sorted.length / 2)] };
  });
}
