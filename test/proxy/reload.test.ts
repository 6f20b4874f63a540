import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantsError } from '../../src/errors.js';
import { startProxy } from '../../src/proxy/server.js';
import { writeRoutesFile } from '../../src/routing/routes-file.js';
import {
  Cleanup,
  echoReport,
  route,
  send,
  sigV4,
  startEchoUpstream,
  startTestProxy,
  waitFor,
  type LogRecord,
} from './helpers.js';

const KEY = 'AKIATENANTA';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function countLogs(logs: LogRecord[], msg: string): number {
  return logs.filter((record) => record.msg === msg).length;
}

/** Replaces a file by rename, as writeRoutesFile does, with arbitrary content. */
async function replaceFile(file: string, content: string): Promise<void> {
  const temporary = `${file}.test.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

async function upstreamOf(baseUrl: string, path: string): Promise<string> {
  const response = await send(baseUrl, { path, headers: ['Authorization', sigV4(KEY)] });
  return echoReport(response).upstream;
}

describe('proxy routing table reload', () => {
  it('switches tables without dropping a request in flight', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const second = await startEchoUpstream('second', cleanup);
    const { proxy, routesFile, logs } = await startTestProxy(cleanup, [route('a', first.url, [KEY])]);
    const bodyStarted = new Promise<void>((resolve) => first.onFirstBytes.set('/b/slow', resolve));

    // A chunked upload that stays open until the test ends it.
    const hash = createHash('sha256');
    const req = http.request({
      hostname: '127.0.0.1',
      port: proxy.port,
      method: 'PUT',
      path: '/b/slow',
      agent: false,
      headers: { Authorization: sigV4(KEY), 'Transfer-Encoding': 'chunked' },
    });
    const slowResponse = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    const part = Buffer.alloc(256 * 1024, 7);
    req.write(part);
    hash.update(part);
    await bodyStarted;

    await writeRoutesFile(routesFile, [route('a', second.url, [KEY])]);
    await waitFor(() => countLogs(logs, 'routing table loaded') === 2, 'the new table to load');
    const newUpstream = await upstreamOf(proxy.url, '/b/new');
    req.end(part);
    hash.update(part);
    const slowReport = JSON.parse(await slowResponse);

    expect(newUpstream).toBe('second');
    expect(slowReport.upstream).toBe('first');
    expect(slowReport.bodyBytes).toBe(2 * part.length);
    expect(slowReport.bodySha256).toBe(hash.digest('hex'));
  });

  it('keeps the last good table when the new one is invalid', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const { proxy, routesFile, logs } = await startTestProxy(cleanup, [route('a', first.url, [KEY])]);

    await replaceFile(routesFile, '{"version": 1, "tenants": [{"name": "a"}]}');
    await waitFor(() => countLogs(logs, 'routing table rejected, keeping the previous table') === 1, 'the rejection');
    const rejection = logs.find((record) => record.msg === 'routing table rejected, keeping the previous table');

    expect(await upstreamOf(proxy.url, '/b/k')).toBe('first');
    expect(rejection?.file).toBe(routesFile);
    expect(String(rejection?.reason)).toContain('tenants[0].upstream');
    await expect(proxy.reload()).rejects.toBeInstanceOf(TenantsError);
    expect(await upstreamOf(proxy.url, '/b/k2')).toBe('first');
  });

  it('keeps the last table when the file is deleted', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const { proxy, routesFile, logs } = await startTestProxy(cleanup, [route('a', first.url, [KEY])]);

    await rm(routesFile);
    await waitFor(() => countLogs(logs, 'routing table file missing') === 1, 'the missing file to be noticed');

    expect(await upstreamOf(proxy.url, '/b/k')).toBe('first');
  });

  it('starts without a table and loads it when it appears', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const { proxy, routesFile, logs } = await startTestProxy(cleanup, undefined);
    const before = await send(proxy.url, { path: '/b/k', headers: ['Authorization', sigV4(KEY)] });

    await writeRoutesFile(routesFile, [route('a', first.url, [KEY])]);
    await waitFor(() => countLogs(logs, 'routing table loaded') === 1, 'the table to load');

    expect(before.status).toBe(503);
    expect(await upstreamOf(proxy.url, '/b/k')).toBe('first');
    expect(logs.find((record) => record.msg === 'routing table loaded')?.tenants).toBe(1);
  });

  it('applies a table on reload()', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const second = await startEchoUpstream('second', cleanup);
    const { proxy, routesFile } = await startTestProxy(cleanup, [route('a', first.url, [KEY])]);

    await writeRoutesFile(routesFile, [route('a', second.url, [KEY])]);
    await proxy.reload();

    expect(await upstreamOf(proxy.url, '/b/k')).toBe('second');
  });

  it('reloads by the stat poll alone', async () => {
    const first = await startEchoUpstream('first', cleanup);
    const second = await startEchoUpstream('second', cleanup);
    // A debounce of an hour keeps watcher events from loading anything during the test.
    const { proxy, routesFile, logs } = await startTestProxy(cleanup, [route('a', first.url, [KEY])], {
      limits: { reloadDebounceMs: 3_600_000, reloadPollIntervalMs: 50 },
    });

    await writeRoutesFile(routesFile, [route('a', second.url, [KEY])]);
    await waitFor(() => countLogs(logs, 'routing table loaded') === 2, 'the poll to load the new table');

    expect(await upstreamOf(proxy.url, '/b/k')).toBe('second');
  });

  it('rejects an invalid table at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'proxy-test-'));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const routesFile = join(dir, 'routes.json');
    await writeFile(routesFile, 'not json');

    const started = startProxy({ routesFile, listen: '127.0.0.1:0' });

    await expect(started).rejects.toBeInstanceOf(TenantsError);
    await expect(started).rejects.toMatchObject({ code: 'ROUTES_INVALID' });
  });
});
