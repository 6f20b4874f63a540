// The supervisor on the development server. It times `up --detach` until every tenant is
// ready for 1, 10, 50 and 100 tenants. With 100 tenants running, it then measures the wall
// time of `status` (hyperfine), the supervisor's CPU and RSS while idle, and the time from
// SIGKILL of a tenant's server to its first successful request through the proxy, next to
// the time one development server takes to start.
//
//   npm run bench:supervisor
//
// Tenants are created with the library behind `add` (dist/state/tenant-store.js) rather
// than 100 CLI runs, because only `up` and `status` are measured.
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { addTenant } from '../dist/state/tenant-store.js';
import { startDevServer } from './lib/backends.mjs';
import { freePort } from './lib/network.mjs';
import { fixed, machineLine, printTable, rssMiB, cpuTicks, TICKS_PER_SECOND, verdict } from './lib/report.mjs';
import { makeTemporaryDir, runBenchmark, startProcess, stopProcess } from './lib/processes.mjs';
import { s3Client } from './lib/s3.mjs';

const CLI = fileURLToPath(new URL('../bin/minio-tenants.js', import.meta.url));
const TENANT_COUNTS = [1, 10, 50, 100];
const IDLE_SECONDS = 10;
const RECOVERY_REPEATS = 3;
const RECOVERY_POLL_MS = 10;
const RECOVERY_DEADLINE_MS = 30_000;
const UP_TIMEOUT_MS = 180_000;

await runBenchmark(async () => {
  console.log(machineLine());
  const upRows = [];
  const checks = [];
  let details;

  for (const count of TENANT_COUNTS) {
    const workspace = await makeWorkspace(count);
    try {
      const tenants = [];
      for (let i = 0; i < count; i += 1) tenants.push(await addTenant(workspace.configFile, { name: `t${i}` }));
      const upSeconds = await timeUp(workspace);
      upRows.push([String(count), fixed(upSeconds * 1000), fixed((upSeconds * 1000) / count, 1)]);
      if (count === TENANT_COUNTS.at(-1)) details = await measureRunningSupervisor(workspace, tenants);
    } finally {
      await stopSupervisor(workspace);
    }
  }

  printTable('`up --detach` until every tenant is ready (development server)', ['tenants', 'wall ms', 'ms per tenant'], upRows);

  const { status, idle, recovery, devServerStartMs } = details;
  printTable(`\`status\` with ${TENANT_COUNTS.at(-1)} tenants (hyperfine, ${status.runs} runs after 3 warm-ups)`, ['command', 'mean ms', 'median ms', 'min ms', 'max ms'], [
    ['status --json', fixed(status.mean * 1000), fixed(status.median * 1000), fixed(status.min * 1000), fixed(status.max * 1000)],
  ]);
  checks.push([`status with ${TENANT_COUNTS.at(-1)} tenants (mean)`, `${fixed(status.mean * 1000)} ms`, '< 300 ms', verdict(status.mean < 0.3)]);

  printTable(`Supervisor idle with ${TENANT_COUNTS.at(-1)} tenants, over ${IDLE_SECONDS} s`, ['process', 'CPU %', 'RSS MiB'], [
    ['supervisor (and its proxy)', fixed(idle.supervisorCpuPercent, 2), fixed(idle.supervisorRssMiB, 1)],
    [`${TENANT_COUNTS.at(-1)} development servers, total`, fixed(idle.serversCpuPercent, 2), fixed(idle.serversRssMiB, 1)],
  ]);

  printTable('SIGKILL of a tenant server until its first successful request through the proxy', ['run', 'recovery ms'], [
    ...recovery.map((ms, i) => [String(i + 1), fixed(ms)]),
    ['one development server, spawn to live', fixed(devServerStartMs)],
  ]);
  const worst = Math.max(...recovery);
  checks.push([
    'recovery after SIGKILL (worst run)',
    `${fixed(worst)} ms`,
    `< start ${fixed(devServerStartMs)} ms + 1000 ms`,
    verdict(worst < devServerStartMs + 1000),
  ]);
  printTable('Targets', ['target', 'measured', 'goal', 'result'], checks);
});

/** Creates a temporary directory with a tenants.yaml whose proxy port and tenant port range are free now. */
async function makeWorkspace(count) {
  const dir = await makeTemporaryDir('bench-supervisor');
  const configFile = join(dir, 'tenants.yaml');
  const proxyPort = await freePort();
  // Above Linux's default ephemeral range (32768-60999), so that no outgoing connection uses one.
  const portsFrom = 61_000 + Math.floor(Math.random() * 15) * 250;
  await writeFile(
    configFile,
    ['stateDir: state', 'dataDir: data', 'proxy:', `  listen: 127.0.0.1:${proxyPort}`, 'ports:', `  from: ${portsFrom}`, `  to: ${portsFrom + 2 * count + 49}`, ''].join('\n'),
  );
  return { dir, configFile, proxyPort };
}

async function runCli(workspace, args, timeoutMs = 60_000) {
  const child = startProcess(process.execPath, [CLI, '--config', workspace.configFile, ...args], {
    label: `minio-tenants ${args[0]}`,
    cwd: workspace.dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const guard = setTimeout(() => stopProcess(child), timeoutMs);
  const exit = await child.exitedPromise;
  clearTimeout(guard);
  if (exit.code !== 0) throw new Error(`minio-tenants ${args.join(' ')} failed (${exit.signal ?? `code ${exit.code}`}): ${stderr.trim()}`);
  return stdout;
}

async function timeUp(workspace) {
  const startedNs = process.hrtime.bigint();
  await runCli(workspace, ['up', '--detach'], UP_TIMEOUT_MS);
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

async function readStatus(workspace) {
  return JSON.parse(await runCli(workspace, ['status', '--json']));
}

/**
 * Stops what `up --detach` started: `down`, and when that fails, SIGKILL to the supervisor
 * and server pids from the status report, which are processes this benchmark started.
 */
async function stopSupervisor(workspace) {
  let report;
  try {
    report = await readStatus(workspace);
    if (!report.supervisor.running) return;
    await runCli(workspace, ['down'], 60_000);
  } catch (error) {
    console.error(`down failed (${error.message}); sending SIGKILL to the processes that up started`);
    const pids = [report?.supervisor.pid, ...(report?.tenants ?? []).map((tenant) => tenant.pid)].filter((pid) => pid != null);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

async function measureRunningSupervisor(workspace, tenants) {
  const report = await readStatus(workspace);
  if (report.tenants.some((tenant) => tenant.state !== 'running')) {
    throw new Error(`not every tenant is running after up: ${report.tenants.filter((t) => t.state !== 'running').map((t) => `${t.name} ${t.state}`).join(', ')}`);
  }
  const status = await hyperfineStatus(workspace);
  const idle = await measureIdle(report);
  const recovery = [];
  for (let i = 0; i < RECOVERY_REPEATS; i += 1) recovery.push(await measureRecovery(workspace, tenants[i]));
  return { status, idle, recovery, devServerStartMs: await measureDevServerStart() };
}

async function hyperfineStatus(workspace) {
  const exportFile = join(workspace.dir, 'hyperfine.json');
  const command = `${process.execPath} ${CLI} --config ${workspace.configFile} status --json`;
  await promisify(execFile)('hyperfine', ['--warmup', '3', '--runs', '20', '--style', 'none', '--export-json', exportFile, command], {
    cwd: workspace.dir,
    timeout: 120_000,
  });
  const [result] = JSON.parse(await readFile(exportFile, 'utf8')).results;
  return { ...result, runs: result.times.length };
}

async function measureIdle(report) {
  const supervisorPid = report.supervisor.pid;
  const serverPids = report.tenants.map((tenant) => tenant.pid);
  const ticks = async (pids) => (await Promise.all(pids.map(cpuTicks))).reduce((sum, value) => sum + value, 0);
  const before = { supervisor: await cpuTicks(supervisorPid), servers: await ticks(serverPids) };
  const rss = [];
  for (let second = 0; second < IDLE_SECONDS; second += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rss.push(await rssMiB(supervisorPid));
  }
  const after = { supervisor: await cpuTicks(supervisorPid), servers: await ticks(serverPids) };
  const serversRss = await Promise.all(serverPids.map(rssMiB));
  const percent = (delta) => (100 * delta) / TICKS_PER_SECOND / IDLE_SECONDS;
  return {
    supervisorCpuPercent: percent(after.supervisor - before.supervisor),
    supervisorRssMiB: Math.max(...rss),
    serversCpuPercent: percent(after.servers - before.servers),
    serversRssMiB: serversRss.reduce((sum, value) => sum + value, 0),
  };
}

/** SIGKILLs the tenant's server (a process `up` started) and polls ListBuckets through the proxy. */
async function measureRecovery(workspace, tenant) {
  const client = s3Client(workspace.proxyPort, { accessKeyId: tenant.accessKey, secretAccessKey: tenant.secretKey });
  const ok = async () => client.send(new ListBucketsCommand({})).then(() => true, () => false);
  if (!(await ok())) throw new Error(`tenant ${tenant.name} does not respond through the proxy before the kill`);

  const before = (await readStatus(workspace)).tenants.find((row) => row.name === tenant.name);
  const killedAtNs = process.hrtime.bigint();
  process.kill(before.pid, 'SIGKILL');
  const deadline = Date.now() + RECOVERY_DEADLINE_MS;
  // The first request may still reach the old server's closing socket, so success only counts after the pid changed.
  while (Date.now() < deadline) {
    if (await ok()) {
      const recoveredMs = Number(process.hrtime.bigint() - killedAtNs) / 1e6;
      const after = (await readStatus(workspace)).tenants.find((row) => row.name === tenant.name);
      if (after.pid !== before.pid) return recoveredMs;
    }
    await new Promise((resolve) => setTimeout(resolve, RECOVERY_POLL_MS));
  }
  throw new Error(`tenant ${tenant.name} did not respond through the proxy within ${RECOVERY_DEADLINE_MS} ms of SIGKILL`);
}

/** Spawn-to-live time of one development server, the "start time" in the recovery goal (median of 3). */
async function measureDevServerStart() {
  const times = [];
  for (let i = 0; i < 3; i += 1) {
    const startedNs = process.hrtime.bigint();
    const server = await startDevServer();
    times.push(Number(process.hrtime.bigint() - startedNs) / 1e6);
    await stopProcess(server.child);
  }
  return times.sort((a, b) => a - b)[1];
}
