import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/log/logger.js';
import { LogRotator, rotateIfLarger } from '../../src/supervisor/log-rotation.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'log-rotation-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Contents by suffix: '' is the live file, '1' is `<file>.1`. */
type Files = Record<string, string>;

interface RotationCase {
  name: string;
  maxBytes: number;
  keep: number;
  before: Files;
  rotated: boolean;
  /** Every file that must exist afterwards, with its contents; any other `server.log*` must be gone. */
  after: Files;
}

const cases: RotationCase[] = [
  {
    name: 'leaves a file at the bound untouched',
    maxBytes: 10,
    keep: 3,
    before: { '': '0123456789', '1': 'old one' },
    rotated: false,
    after: { '': '0123456789', '1': 'old one' },
  },
  {
    name: 'moves a file over the bound to .1',
    maxBytes: 10,
    keep: 3,
    before: { '': 'line 1\nline 2\n' },
    rotated: true,
    after: { '': '', '1': 'line 1\nline 2\n' },
  },
  {
    name: 'shifts .1 to .2 and .2 to .3',
    maxBytes: 4,
    keep: 3,
    before: { '': 'newest\n', '1': 'newer\n', '2': 'older\n' },
    rotated: true,
    after: { '': '', '1': 'newest\n', '2': 'newer\n', '3': 'older\n' },
  },
  {
    name: 'drops the file older than keep',
    maxBytes: 4,
    keep: 2,
    before: { '': 'newest\n', '1': 'newer\n', '2': 'oldest\n' },
    rotated: true,
    after: { '': '', '1': 'newest\n', '2': 'newer\n' },
  },
  {
    name: 'replaces .1 when keep is 1',
    maxBytes: 4,
    keep: 1,
    before: { '': 'newest\n', '1': 'older\n' },
    rotated: true,
    after: { '': '', '1': 'newest\n' },
  },
  {
    name: 'deletes files left from a larger keep',
    maxBytes: 4,
    keep: 2,
    before: { '': 'newest\n', '1': 'newer\n', '4': 'stale\n', '12': 'stale\n' },
    rotated: true,
    after: { '': '', '1': 'newest\n', '2': 'newer\n' },
  },
];

describe('rotateIfLarger', () => {
  it.each(cases)('$name', async ({ maxBytes, keep, before, rotated, after }) => {
    const file = join(dir, 'server.log');
    for (const [suffix, content] of Object.entries(before)) {
      await writeFile(suffix === '' ? file : `${file}.${suffix}`, content);
    }
    // A neighbour whose name starts the same must survive the cleanup of old files.
    await writeFile(join(dir, 'server.log-other.5'), 'neighbour');

    expect(await rotateIfLarger(file, { maxBytes, keep })).toBe(rotated);

    for (const [suffix, content] of Object.entries(after)) {
      expect(await readFile(suffix === '' ? file : `${file}.${suffix}`, 'utf8'), `server.log.${suffix}`).toBe(content);
    }
    const expectedNames = Object.keys(after).map((suffix) => (suffix === '' ? 'server.log' : `server.log.${suffix}`));
    expect((await readdir(dir)).sort()).toEqual([...expectedNames, 'server.log-other.5'].sort());
  });

  it('returns false for a missing file', async () => {
    expect(await rotateIfLarger(join(dir, 'missing.log'), { maxBytes: 1, keep: 3 })).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });
});

/** Fixed line length, so that a line count converts to bytes. */
const LINE_BYTES = 100;
/** Lines the writer appends per round; one round is one check interval. */
const BURST_LINES = 60;

/**
 * A child that appends numbered lines of LINE_BYTES through an fd opened with 'a' (O_APPEND).
 * Each IPC message starts a burst of BURST_LINES, one write per line with an event loop turn
 * in between, so that the writes interleave with a rotation in the test process.
 */
const WRITER_SCRIPT = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'a');
let next = 1;
process.on('message', (count) => {
  let left = count;
  const writeOne = () => {
    if (left === 0) { process.send('burst written'); return; }
    fs.writeSync(fd, 'line ' + String(next).padStart(8, '0') + ' ' + 'x'.repeat(${LINE_BYTES - 15}) + '\\n');
    next += 1;
    left -= 1;
    setImmediate(writeOne);
  };
  writeOne();
});
process.send('ready');
`;

describe('rotateIfLarger with a concurrent O_APPEND writer', () => {
  let writer: ChildProcess | undefined;

  afterEach(() => {
    if (writer?.pid !== undefined && writer.exitCode === null && writer.signalCode === null) {
      process.kill(writer.pid, 'SIGKILL');
    }
    writer = undefined;
  });

  it('keeps lines in order without duplicates', async () => {
    const file = join(dir, 'server.log');
    const maxBytes = 200 * LINE_BYTES;
    const rounds = 40;
    writer = spawn(process.execPath, ['-e', WRITER_SCRIPT, file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await waitForMessage(writer, 'ready');

    // Each rotation's .1 is read at once, before a later rotation shifts or drops it.
    const rotatedContents: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const burstWritten = waitForMessage(writer, 'burst written');
      writer.send(BURST_LINES);
      if (await rotateIfLarger(file, { maxBytes, keep: 3 })) {
        rotatedContents.push(await readFile(`${file}.1`, 'utf8'));
      }
      await burstWritten;
    }
    const writerPid = writer.pid as number;
    const exited = once(writer, 'exit');
    process.kill(writerPid, 'SIGTERM');
    await exited;
    const live = await readFile(file, 'utf8');

    // Without rotation the file would reach 2400 lines; about one rotation per four rounds is expected.
    expect(rotatedContents.length).toBeGreaterThanOrEqual(5);
    for (const content of rotatedContents) {
      expect(Buffer.byteLength(content)).toBeGreaterThan(maxBytes);
      // The file was at most maxBytes at the previous check; since then the writer added the
      // rest of one burst and part of the next.
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(maxBytes + 2 * BURST_LINES * LINE_BYTES);
    }
    expect(Buffer.byteLength(live)).toBeLessThanOrEqual(maxBytes + 2 * BURST_LINES * LINE_BYTES);

    // Allowed loss: lines written between the rotator's last read and its ftruncate. They can
    // only be missing where one file ends and the next begins, never inside a file, and a
    // line is never split.
    const files = [...rotatedContents, live].map(lineNumbers);
    let previous = 0;
    let lost = 0;
    for (const numbers of files) {
      for (const [index, number] of numbers.entries()) {
        expect(number, 'line numbers strictly increase').toBeGreaterThan(previous);
        if (index > 0) {
          expect(number, 'no gap inside a file').toBe(previous + 1);
        } else {
          lost += number - previous - 1;
          expect(number - previous - 1, 'lines lost at one rotation').toBeLessThan(BURST_LINES);
        }
        previous = number;
      }
    }
    expect(previous + lost).toBeLessThanOrEqual(rounds * BURST_LINES);
    expect(previous).toBeGreaterThan(rounds * BURST_LINES - BURST_LINES);
  });
});

function lineNumbers(content: string): number[] {
  const lines = content.split('\n');
  expect(lines.pop(), 'file ends with a whole line').toBe('');
  return lines.map((line) => {
    const match = /^line ([0-9]{8}) x+$/.exec(line);
    expect(match, `whole line: ${line.slice(0, 40)}`).not.toBeNull();
    expect(line.length + 1).toBe(LINE_BYTES);
    return Number(match?.[1]);
  });
}

async function waitForMessage(child: ChildProcess, expected: string): Promise<void> {
  for (;;) {
    const [message] = (await once(child, 'message')) as [unknown];
    if (message === expected) {
      return;
    }
  }
}

/** Creates a pino logger that keeps every record in `records`. */
function capturingLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      records.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream) as Logger, records };
}

/** Polls `condition` up to 500 times, 10 ms apart; a bound on the wait, not a timing assertion. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !condition(); attempt += 1) {
    await sleep(10);
  }
}

describe('LogRotator', () => {
  it('rotates on its timer and logs each rotation', async () => {
    const first = join(dir, 'a.log');
    const second = join(dir, 'b.log');
    await writeFile(first, 'x'.repeat(50));
    await writeFile(second, 'small');
    const { logger, records } = capturingLogger();

    const rotator = new LogRotator({ files: () => [first, second, join(dir, 'missing.log')], maxBytes: 10, keep: 2, intervalMs: 5, logger });
    rotator.start();
    await waitUntil(() => records.length > 0);
    rotator.stop();

    expect(await readFile(`${first}.1`, 'utf8')).toBe('x'.repeat(50));
    expect(await readFile(first, 'utf8')).toBe('');
    expect(existsSync(`${second}.1`)).toBe(false);
    expect(records[0]).toMatchObject({ level: 30, msg: 'log rotated', file: first, bytes: 50 });
  });

  it('logs a failed file at warn and checks the others', async () => {
    const broken = join(dir, 'directory.log');
    await mkdir(broken);
    const good = join(dir, 'good.log');
    await writeFile(good, 'y'.repeat(20));
    const { logger, records } = capturingLogger();

    const rotator = new LogRotator({ files: () => [broken, good], maxBytes: 10, keep: 3, logger });
    await rotator.checkNow();

    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ level: 40, msg: 'log rotation failed', file: broken });
    expect(records[0]?.err).toBeDefined();
    expect(records[1]).toMatchObject({ level: 30, msg: 'log rotated', file: good, bytes: 20 });
  });

  it('rejects keep below 1', () => {
    expect(() => new LogRotator({ files: () => [], maxBytes: 10, keep: 0, logger: capturingLogger().logger })).toThrow(/keep/);
  });
});
