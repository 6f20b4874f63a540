// Large uploads and downloads from the benchmark process, with a node:http client that
// streams from one reused 1 MiB buffer and discards what it receives, so the client keeps
// little memory and does no per-byte work.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';

const CHUNK = randomBytes(1024 * 1024);
/** A transfer fails when its connection carries no data for this long, so a stalled target cannot hang a run. */
const IDLE_TIMEOUT_MS = 30_000;
const agent = new Agent({ keepAlive: false });

/**
 * Sends `method` to `url` (on 127.0.0.1) with a body of `uploadBytes` (0 for none), reads
 * the response to its end and returns { status, bytesReceived, seconds }.
 */
export function transfer(url, { method, uploadBytes = 0, headers = {} }) {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`benchmarks only load 127.0.0.1, not ${target.hostname}`);

  return new Promise((resolve, reject) => {
    const startedNs = process.hrtime.bigint();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: `${target.pathname}${target.search}`,
        agent,
        headers: uploadBytes > 0 ? { ...headers, 'content-length': String(uploadBytes) } : headers,
      },
      (res) => {
        let bytesReceived = 0;
        res.on('data', (chunk) => (bytesReceived += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode, bytesReceived, seconds: Number(process.hrtime.bigint() - startedNs) / 1e9 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${target.pathname} saw no data for ${IDLE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    writeBody(req, uploadBytes);
  });
}

function writeBody(req, totalBytes) {
  let written = 0;
  const writeMore = () => {
    while (written < totalBytes) {
      const size = Math.min(CHUNK.length, totalBytes - written);
      written += size;
      if (!req.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size))) {
        req.once('drain', writeMore);
        return;
      }
    }
    req.end();
  };
  writeMore();
}
