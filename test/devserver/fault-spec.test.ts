import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultRuntime } from '../../src/devserver/fault-runtime.js';
import { FaultSpecError, parseFaultSpec, readFault, type Fault } from '../../src/devserver/fault-spec.js';

describe('parseFaultSpec', () => {
  const valid: Array<[string, Fault | undefined]> = [
    ['', undefined],
    ['  none\n', undefined],
    ['exit:3', { kind: 'exit', exitCode: 3 }],
    ['exit:0', { kind: 'exit', exitCode: 0 }],
    ['exit-after-requests:5', { kind: 'exit-after-requests', requests: 5, exitCode: 1 }],
    ['exit-after-requests:5:7', { kind: 'exit-after-requests', requests: 5, exitCode: 7 }],
    ['hang-before-ready\n', { kind: 'hang-before-ready' }],
    ['unhealthy-after-ms:2000', { kind: 'unhealthy-after-ms', delayMs: 2000 }],
    ['unhealthy-after-requests:4', { kind: 'unhealthy-after-requests', requests: 4 }],
    ['sts-expire-after-ms:1500', { kind: 'sts-expire-after-ms', lifetimeMs: 1500 }],
  ];
  for (const [spec, fault] of valid) {
    it(`parses ${JSON.stringify(spec)}`, () => {
      expect(parseFaultSpec(spec)).toEqual(fault);
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ['crash', /unknown fault "crash"/],
    ['exit', /has 0 arguments/],
    ['exit:x', /non-negative integer, not "x"/],
    ['exit:256', /exit code .* must be 0-255/],
    ['exit:-1', /non-negative integer/],
    ['exit-after-requests:1:2:3', /has 3 arguments/],
    ['hang-before-ready:1', /has 1 arguments/],
    ['unhealthy-after-ms:1.5', /non-negative integer, not "1.5"/],
    ['sts-expire-after-ms', /has 0 arguments/],
  ];
  for (const [spec, message] of invalid) {
    it(`rejects ${JSON.stringify(spec)}`, () => {
      expect(() => parseFaultSpec(spec)).toThrow(FaultSpecError);
      expect(() => parseFaultSpec(spec)).toThrow(message);
    });
  }
});

describe('readFault', () => {
  it('prefers MINIO_DEV_FAULT over the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fault-'));
    try {
      const file = join(dir, 'fault');
      await writeFile(file, 'exit:4');
      expect(readFault({ MINIO_DEV_FAULT: 'exit:2', MINIO_DEV_FAULT_FILE: file })).toEqual({ kind: 'exit', exitCode: 2 });
      expect(readFault({ MINIO_DEV_FAULT_FILE: file })).toEqual({ kind: 'exit', exitCode: 4 });
      expect(readFault({ MINIO_DEV_FAULT_FILE: join(dir, 'missing') })).toBeUndefined();
      expect(readFault({})).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FaultRuntime', () => {
  it('exits after the given number of S3 requests, not counting health checks', () => {
    const exits: number[] = [];
    const runtime = new FaultRuntime({ kind: 'exit-after-requests', requests: 2, exitCode: 9 }, (code) => exits.push(code));
    runtime.requestFinished(true);
    runtime.requestFinished(false);
    expect(exits).toEqual([]);
    runtime.requestFinished(false);
    expect(exits).toEqual([9]);
  });

  it('stops answering health checks after a delay on a virtual clock', () => {
    let nowMs = 1_000;
    const runtime = new FaultRuntime({ kind: 'unhealthy-after-ms', delayMs: 500 }, () => undefined, () => nowMs);
    expect(runtime.healthAnswerable()).toBe(true);
    nowMs = 1_499;
    expect(runtime.healthAnswerable()).toBe(true);
    nowMs = 1_500;
    expect(runtime.healthAnswerable()).toBe(false);
  });

  it('stops answering health checks after a number of them', () => {
    const runtime = new FaultRuntime({ kind: 'unhealthy-after-requests', requests: 2 }, () => undefined);
    runtime.requestFinished(true);
    expect(runtime.healthAnswerable()).toBe(true);
    runtime.requestFinished(true);
    expect(runtime.healthAnswerable()).toBe(false);
  });

  it('answers health checks without a fault', () => {
    const runtime = new FaultRuntime(undefined, () => undefined);
    runtime.requestFinished(true);
    expect(runtime.healthAnswerable()).toBe(true);
  });
});
