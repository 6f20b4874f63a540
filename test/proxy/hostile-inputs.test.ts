import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, route, send, SIGNATURE, sigV4, startEchoUpstream, startTestProxy, waitFor, type EchoUpstream } from './helpers.js';

/**
 * Malformed and hostile requests, all sent at once on raw sockets while a stream of
 * healthy requests runs next to them. Each must end in an S3 XML error or a timeout,
 * and no healthy request may fail.
 */

const KEY = 'AKIAHOSTILETEST';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Small timeouts so that the slow cases finish in about a second each. */
const LIMITS = { headersTimeoutMs: 1_000, connectionsCheckingIntervalMs: 100, socketIdleTimeoutMs: 1_000 };

interface RawOutcome {
  reply: string;
  /** The proxy closed the connection. */
  closed: boolean;
}

/**
 * Writes `parts` to a new connection, waiting `delayMs` between parts, and returns what
 * came back once the proxy closes the connection or `maxWaitMs` passes.
 */
function rawExchange(port: number, parts: Array<string | Buffer>, delayMs = 0, maxWaitMs = 10_000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    let closed = false;
    const finish = (): void => {
      clearTimeout(deadline);
      socket.destroy();
      resolve({ reply, closed });
    };
    const deadline = setTimeout(finish, maxWaitMs);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    void (async () => {
      for (const part of parts) {
        if (closed) {
          return;
        }
        socket.write(part);
        if (delayMs > 0) {
          await new Promise((resolveDelay) => setTimeout(resolveDelay, delayMs));
        }
      }
    })();
  });
}

const statusOf = (reply: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
const codeOf = (reply: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(reply)?.[1];

function request(headers: string[], options: { method?: string; path?: string; body?: string } = {}): string {
  const lines = [`${options.method ?? 'GET'} ${options.path ?? '/b/k'} HTTP/1.1`, 'Host: proxy.test', 'Connection: close', ...headers];
  return `${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`;
}

/** Splits text into one-character parts, for clients that send a byte at a time. */
const bytewise = (text: string): string[] => [...text];

const credentialQuery = (value: string): string => `/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${value}&X-Amz-Signature=${SIGNATURE}`;
const FORM_BOUNDARY = 'hostileBoundary';
const formWithoutCredential = `--${FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\ndata\r\n--${FORM_BOUNDARY}--\r\n`;

interface HostileCase {
  name: string;
  parts: Array<string | Buffer>;
  delayMs?: number;
  status: number;
  code: string;
}

const cases: HostileCase[] = [
  { name: 'truncated SigV4 header', parts: [request(['Authorization: AWS4-HMAC-SHA256 Credential=AKIA/2024'])], status: 400, code: 'AuthorizationHeaderMalformed' },
  { name: 'bare algorithm name', parts: [request(['Authorization: AWS4-HMAC-SHA256'])], status: 400, code: 'AuthorizationHeaderMalformed' },
  { name: 'SigV2 header without signature', parts: [request(['Authorization: AWS AKIAHOSTILETEST'])], status: 400, code: 'InvalidArgument' },
  { name: 'empty Authorization header', parts: [request(['Authorization: '])], status: 400, code: 'InvalidArgument' },
  { name: 'unknown scheme', parts: [request(['Authorization: Bearer abc'])], status: 400, code: 'InvalidArgument' },
  { name: 'two Authorization headers', parts: [request([`Authorization: ${sigV4(KEY)}`, `Authorization: ${sigV4(KEY)}`])], status: 400, code: 'InvalidArgument' },
  { name: 'header and query credential', parts: [request([`Authorization: ${sigV4(KEY)}`], { path: credentialQuery(`${KEY}%2F20240102%2Fus-east-1%2Fs3%2Faws4_request`) })], status: 400, code: 'InvalidArgument' },
  { name: 'empty query credential', parts: [request([], { path: credentialQuery('') })], status: 400, code: 'AuthorizationQueryParametersError' },
  { name: 'bad percent-encoding', parts: [request([], { path: credentialQuery('%ZZ%2F') })], status: 400, code: 'InvalidArgument' },
  { name: 'empty AWSAccessKeyId', parts: [request([], { path: '/b/k?AWSAccessKeyId=&Signature=x&Expires=1' })], status: 400, code: 'AuthorizationQueryParametersError' },
  { name: 'unknown access key', parts: [request([`Authorization: ${sigV4('AKIANOBODY')}`])], status: 403, code: 'InvalidAccessKeyId' },
  {
    name: 'form without credential',
    parts: [request([`Content-Type: multipart/form-data; boundary=${FORM_BOUNDARY}`, `Content-Length: ${formWithoutCredential.length}`], { method: 'POST', path: '/b', body: formWithoutCredential })],
    status: 403,
    code: 'AccessDenied',
  },
  { name: '64 KiB header', parts: [request([`Authorization: ${sigV4(KEY)}`, `X-Amz-Meta-Big: ${'v'.repeat(64 * 1024)}`])], status: 431, code: 'RequestHeaderSectionTooLarge' },
  { name: 'invalid header bytes', parts: [request(['X-Bad\u0001Name: v'])], status: 400, code: 'BadRequest' },
  { name: 'one header byte at a time', parts: bytewise(request([`Authorization: ${sigV4(KEY)}`])), delayMs: 50, status: 408, code: 'RequestTimeout' },
  {
    name: 'stalled body',
    parts: [request([`Authorization: ${sigV4(KEY)}`, 'Content-Length: 100'], { method: 'PUT', body: 'only ten b' })],
    status: 408,
    code: 'RequestTimeout',
  },
];

/** Sends healthy signed GETs one after another until `stop()`; returns every status seen. */
function healthyStream(url: string): { stop: () => Promise<number[]> } {
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 10_000; i += 1) {
      const response = await send(url, { path: `/healthy/${i}`, headers: ['Authorization', sigV4(KEY)] }).catch(() => ({ status: -1 }));
      statuses.push(response.status);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statuses;
    },
  };
}

describe('proxy hostile inputs', () => {
  it('answers each with an error while healthy requests pass', async () => {
    const upstream: EchoUpstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], { limits: LIMITS });
    const healthy = [healthyStream(proxy.url), healthyStream(proxy.url)];

    const outcomes = await Promise.all(cases.map((hostile) => rawExchange(proxy.port, hostile.parts, hostile.delayMs)));
    const statuses = (await Promise.all(healthy.map((stream) => stream.stop()))).flat();

    for (const [index, hostile] of cases.entries()) {
      const outcome = outcomes[index] as RawOutcome;
      expect(statusOf(outcome.reply), hostile.name).toBe(hostile.status);
      expect(codeOf(outcome.reply), hostile.name).toBe(hostile.code);
      expect(outcome.closed, `${hostile.name} closed`).toBe(true);
    }
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // The stalled upload is aborted upstream too, shortly after the client got its 408.
    await waitFor(() => upstream.aborted.includes('/b/k'), 'the upstream abort of the stalled body');
    expect(upstream.aborted).toEqual(['/b/k']);
  });

  it('lets a slow but steady body finish', async () => {
    const upstream = await startEchoUpstream('a', cleanup);
    const { proxy } = await startTestProxy(cleanup, [route('a', upstream.url, [KEY])], { limits: LIMITS });
    const body = 'x'.repeat(30);
    const head = request([`Authorization: ${sigV4(KEY)}`, `Content-Length: ${body.length}`], { method: 'PUT', path: '/b/slow' });

    // 30 bytes, one every 100 ms: 3 s in all, three times the 1 s idle timeout.
    const outcome = await rawExchange(proxy.port, [head, ...bytewise(body)], 100);

    expect(statusOf(outcome.reply)).toBe(200);
    expect(upstream.received.get('/b/slow')?.bodyBytes).toBe(30);
  });
});
