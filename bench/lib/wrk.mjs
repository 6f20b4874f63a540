// Runs wrk (Debian package `wrk`) for a bounded time and returns its summary as numbers.
import { fileURLToPath } from 'node:url';
import { startProcess } from './processes.mjs';

const REPORT_SCRIPT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));

/**
 * Loads `url` (on 127.0.0.1) for `durationS` seconds with `connections` keep-alive
 * connections. `delayMs` makes every connection pause after each response, which limits
 * the rate (see wrk-report.lua). Rejects when wrk fails or any request failed.
 */
export async function runWrk({ url, connections, threads = 1, durationS, headers = {}, method, bodyFile, delayMs = 0, allowErrors = false }) {
  assertLoopback(url);
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${durationS}s`, '--timeout', '10s', '-s', REPORT_SCRIPT];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);

  const child = startProcess('wrk', args, {
    label: 'wrk',
    env: { ...process.env, WRK_METHOD: method ?? '', WRK_BODY_FILE: bodyFile ?? '', WRK_DELAY_MS: String(delayMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  // wrk stops itself after durationS; the kill is only a bound for a hung wrk.
  const guard = setTimeout(() => child.kill('SIGKILL'), (durationS + 20) * 1000);
  const exit = await child.exitedPromise;
  clearTimeout(guard);

  const line = output.split('\n').find((text) => text.startsWith('WRK_RESULT '));
  if (exit.code !== 0 || line === undefined) {
    throw new Error(`wrk against ${stripQuery(url)} failed (${exit.signal ?? `code ${exit.code}`}): ${output.trim().slice(0, 500)}`);
  }
  const raw = JSON.parse(line.slice('WRK_RESULT '.length));
  const failed = raw.connectErrors + raw.readErrors + raw.writeErrors + raw.statusErrors + raw.timeouts;
  if (failed > 0 && !allowErrors) {
    throw new Error(`wrk against ${stripQuery(url)} saw ${failed} failed requests of ${raw.requests}: ${JSON.stringify(raw)}`);
  }
  return {
    requests: raw.requests,
    failed,
    requestsPerSecond: raw.requests / (raw.durationUs / 1e6),
    bytesPerSecond: raw.bytes / (raw.durationUs / 1e6),
    p50Ms: raw.p50Us / 1000,
    p90Ms: raw.p90Us / 1000,
    p99Ms: raw.p99Us / 1000,
    maxMs: raw.maxUs / 1000,
  };
}

function assertLoopback(url) {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') {
    throw new Error(`benchmarks only load 127.0.0.1, not ${hostname}`);
  }
}

/** Presigned URLs carry a signature in the query, which must not reach a log or an error. */
function stripQuery(url) {
  return url.split('?')[0];
}
