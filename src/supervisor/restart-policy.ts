import type { SupervisorSettings } from '../config/types.js';

/**
 * When to restart a server that exited while it should run. Pure: the caller passes the
 * clock reading, so tests drive it with a virtual clock.
 */
export interface RestartPolicyOptions {
  /** Delay before the first restart after a stable period. */
  initialDelayMs: number;
  /** Upper bound of the doubling delay. */
  maxDelayMs: number;
  /** A server that ran this long without crashing starts again from `initialDelayMs`. */
  stableAfterMs: number;
  /** More than this many crashes within `crashWindowMs` put the tenant in state `failed`. */
  maxCrashes: number;
  crashWindowMs: number;
}

export function restartPolicyOf(settings: SupervisorSettings): RestartPolicyOptions {
  return {
    initialDelayMs: settings.restartDelayMs,
    maxDelayMs: settings.maxRestartDelayMs,
    stableAfterMs: settings.stableAfterMs,
    maxCrashes: settings.maxCrashes,
    crashWindowMs: settings.crashWindowMs,
  };
}

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'fail'; crashes: number };

export interface CrashHistory {
  /** Clock readings of recent crashes, oldest first. */
  crashTimesMs: number[];
  /** Consecutive restarts since the last stable period. */
  attempt: number;
}

export function emptyHistory(): CrashHistory {
  return { crashTimesMs: [], attempt: 0 };
}

/**
 * Records a crash at `nowMs` of a server that started at `startedAtMs`, and decides what
 * to do. Returns the new history with the decision.
 */
export function onCrash(
  policy: RestartPolicyOptions,
  history: CrashHistory,
  startedAtMs: number,
  nowMs: number,
): { history: CrashHistory; decision: RestartDecision } {
  const ranStable = nowMs - startedAtMs >= policy.stableAfterMs;
  const crashTimesMs = [...history.crashTimesMs, nowMs].filter((time) => nowMs - time < policy.crashWindowMs);
  const attempt = ranStable ? 1 : history.attempt + 1;
  const next: CrashHistory = { crashTimesMs, attempt };

  if (crashTimesMs.length > policy.maxCrashes) {
    return { history: next, decision: { action: 'fail', crashes: crashTimesMs.length } };
  }
  const delayMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return { history: next, decision: { action: 'restart', delayMs, attempt } };
}
