import { describe, expect, it } from 'vitest';
import { CoalescingWriter } from '../../src/supervisor/coalescing-writer.js';

describe('CoalescingWriter', () => {
  it('folds requests made during a write into one more write', async () => {
    let writes = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const writer = new CoalescingWriter(
      async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        writes += 1;
        await new Promise((resolve) => setImmediate(resolve));
        concurrent -= 1;
      },
      () => {},
    );
    writer.schedule();
    writer.schedule();
    writer.schedule();
    await writer.flush();
    expect(writes).toBe(2);
    expect(maxConcurrent).toBe(1);
  });

  it('reports a failed write and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const writer = new CoalescingWriter(async () => {
      calls += 1;
      if (calls === 1) {
        throw new Error('disk full');
      }
    }, (error) => errors.push(error));
    writer.schedule();
    await writer.flush();
    writer.schedule();
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
  });
});
