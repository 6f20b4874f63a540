import type { Fault } from './fault-spec.js';

/**
 * Acts out a runtime fault: counts requests and decides when health checks stop getting a
 * response or when the process exits. `exitProcess` is injected so unit tests need no process.
 */
export class FaultRuntime {
  private s3Requests = 0;
  private healthRequests = 0;
  private readonly startedAtMs: number;

  constructor(
    private readonly fault: Fault | undefined,
    private readonly exitProcess: (code: number) => void,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.startedAtMs = nowMs();
  }

  /** Returns whether health checks still get a response; once false, they are left hanging. */
  healthAnswerable(): boolean {
    const fault = this.fault;
    if (fault?.kind === 'unhealthy-after-ms') {
      return this.nowMs() - this.startedAtMs < fault.delayMs;
    }
    if (fault?.kind === 'unhealthy-after-requests') {
      return this.healthRequests < fault.requests;
    }
    return true;
  }

  /** Called when a response is finished; health checks count for unhealthy-after-requests only. */
  requestFinished(isHealthCheck: boolean): void {
    if (isHealthCheck) {
      this.healthRequests += 1;
      return;
    }
    this.s3Requests += 1;
    if (this.fault?.kind === 'exit-after-requests' && this.s3Requests >= this.fault.requests) {
      this.exitProcess(this.fault.exitCode);
    }
  }
}
