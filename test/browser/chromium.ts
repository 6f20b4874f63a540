import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { isAlive } from '../../src/supervisor/process-info.js';

/** Debian's chromium package; playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags that keep Chromium off the network except for the pages a test opens: no
 * background updates, sync, QUIC or first-run requests.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  /** The browser process, whose command line names this user data directory. */
  pid: number;
  userDataDir: string;
}

/**
 * Starts Chromium with a fresh user data directory. Playwright passes the directory as
 * `--user-data-dir` and rejects it among `args`, so it goes through launchPersistentContext.
 */
export async function launchChromium(): Promise<HeadlessChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'minio-tenants-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  const pids = await chromiumPidsOf(userDataDir);
  const browserPid = pids.find((entry) => entry.isBrowser)?.pid;
  if (browserPid === undefined) {
    await context.close();
    throw new Error(`no Chromium browser process with --user-data-dir=${userDataDir} found in /proc after the launch`);
  }
  return { context, pid: browserPid, userDataDir };
}

/**
 * Closes the browser, waits at most `timeoutMs` for every Chromium process of this user
 * data directory to exit, and returns the pids still alive (an empty list on success).
 */
export async function closeChromium(browser: HeadlessChromium, timeoutMs = 10_000): Promise<number[]> {
  await browser.context.close();
  const deadline = Date.now() + timeoutMs;
  let alive = await alivePids(browser);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = await alivePids(browser);
  }
  await rm(browser.userDataDir, { recursive: true, force: true });
  return alive;
}

async function alivePids(browser: HeadlessChromium): Promise<number[]> {
  const children = (await chromiumPidsOf(browser.userDataDir)).map((entry) => entry.pid);
  return [...new Set([browser.pid, ...children])].filter((pid) => isAlive(pid));
}

/** Chromium's helper processes carry `--type=<renderer|gpu-process|…>`; the browser process does not. */
async function chromiumPidsOf(userDataDir: string): Promise<Array<{ pid: number; isBrowser: boolean }>> {
  const marker = `--user-data-dir=${userDataDir}`;
  const found: Array<{ pid: number; isBrowser: boolean }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) {
      continue;
    }
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (text) => text.split('\0'),
      () => [] as string[],
    );
    if (argv.includes(marker)) {
      found.push({ pid: Number(entry), isBrowser: !argv.some((arg) => arg.startsWith('--type=')) });
    }
  }
  return found;
}
