// Child processes and temporary directories of one benchmark run. Everything started
// through this module is stopped by pid when the run ends: normally, on an exception and
// on SIGINT or SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const STOP_TIMEOUT_MS = 5_000;

const running = new Set();
const temporaryDirs = new Set();
const failureReports = [];
let interrupted = false;

/** Spawns a tracked child process. Output goes to `stdio` (default: ignored). */
export function startProcess(command, args, { env, cwd, stdio = 'ignore', label = command } = {}) {
  const child = spawn(command, args, { env: env ?? process.env, cwd, stdio });
  child.label = label;
  child.exitedPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
    // A failed spawn (such as ENOENT) emits 'error' and never 'exit'.
    child.once('error', (error) => {
      running.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });
  running.add(child);
  return child;
}

/** Sends SIGTERM to one child, then SIGKILL after STOP_TIMEOUT_MS, and waits for its exit. */
export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null || !running.has(child)) {
    return;
  }
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (running.has(child)) process.kill(child.pid, 'SIGKILL');
  }, STOP_TIMEOUT_MS);
  await child.exitedPromise;
  clearTimeout(timer);
}

/** Creates a temporary directory that is removed when the run ends. */
export async function makeTemporaryDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  temporaryDirs.add(dir);
  return dir;
}

/**
 * Registers `report`, an async function returning text (such as the tail of a server's
 * log), which runBenchmark prints when the run fails, before the temporary files go.
 */
export function addFailureReport(report) {
  failureReports.push(report);
}

export async function stopEverything() {
  await Promise.all([...running].map((child) => stopProcess(child)));
  await Promise.all([...temporaryDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  temporaryDirs.clear();
}

/**
 * Runs `main`, then stops every tracked process and removes every temporary directory,
 * also when `main` throws or the user presses Ctrl-C.
 */
export async function runBenchmark(main) {
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`${signal} received; stopping ${running.size} process(es)`);
    void stopEverything().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    console.error(error);
    for (const report of failureReports) console.error(await report().catch((reportError) => `(no report: ${reportError.message})`));
  } finally {
    await stopEverything();
    console.log(`\nload average (1 min) at the end: ${loadavg()[0].toFixed(2)}`);
  }
}
