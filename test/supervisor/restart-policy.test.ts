import { describe, expect, it } from 'vitest';
import { emptyHistory, onCrash, type CrashHistory, type RestartPolicyOptions } from '../../src/supervisor/restart-policy.js';

const policy: RestartPolicyOptions = {
  initialDelayMs: 250,
  maxDelayMs: 2_000,
  stableAfterMs: 10_000,
  maxCrashes: 5,
  crashWindowMs: 60_000,
};

/** Feeds crashes of servers that each ran `uptimeMs`, starting after the previous delay, on a virtual clock. */
function crashLoop(count: number, uptimeMs: number): Array<ReturnType<typeof onCrash>['decision']> {
  let history: CrashHistory = emptyHistory();
  let clockMs = 0;
  const decisions = [];
  for (let i = 0; i < count; i += 1) {
    const startedAtMs = clockMs;
    clockMs += uptimeMs;
    const result = onCrash(policy, history, startedAtMs, clockMs);
    history = result.history;
    decisions.push(result.decision);
    if (result.decision.action === 'restart') {
      clockMs += result.decision.delayMs;
    }
  }
  return decisions;
}

describe('restart policy', () => {
  it('doubles the delay from the initial value', () => {
    const delays = crashLoop(4, 10).map((decision) => (decision.action === 'restart' ? decision.delayMs : -1));
    expect(delays).toEqual([250, 500, 1_000, 2_000]);
  });

  it('caps the delay at maxDelayMs', () => {
    const custom = { ...policy, maxCrashes: 100 };
    let history = emptyHistory();
    let last = 0;
    for (let i = 0; i < 10; i += 1) {
      const result = onCrash(custom, history, i * 1_000, i * 1_000 + 1);
      history = result.history;
      last = result.decision.action === 'restart' ? result.decision.delayMs : -1;
    }
    expect(last).toBe(2_000);
  });

  it('fails after more than maxCrashes within the window', () => {
    const decisions = crashLoop(6, 10);
    expect(decisions.slice(0, 5).every((decision) => decision.action === 'restart')).toBe(true);
    expect(decisions[5]).toEqual({ action: 'fail', crashes: 6 });
  });

  it('forgets crashes older than the window', () => {
    const decisions = crashLoop(8, 30_000);
    expect(decisions.every((decision) => decision.action === 'restart')).toBe(true);
  });

  it('resets the delay after a stable run', () => {
    let history = emptyHistory();
    history = onCrash(policy, history, 0, 10).history;
    history = onCrash(policy, history, 300, 310).history;
    const afterStable = onCrash(policy, history, 1_000, 1_000 + policy.stableAfterMs);
    expect(afterStable.decision).toEqual({ action: 'restart', delayMs: 250, attempt: 1 });
  });
});
