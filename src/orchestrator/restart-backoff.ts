/** Restart backoff: 0.5 s doubling to 30 s; forgotten once a replica has served for 10 s. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
export const STABLE_AFTER_MS = 10_000;

/**
 * How long an app waits before starting a replica again after failures, as Docker's restart
 * delay: each failure doubles the wait, and a replica that has been ready for STABLE_AFTER_MS
 * clears it.
 */
export class RestartBackoff {
  private failures = 0;
  private lastFailureMs = 0;

  failed(nowMs: number): void {
    this.failures++;
    this.lastFailureMs = nowMs;
  }

  reset(): void {
    this.failures = 0;
  }

  /** Clears the backoff when a replica has been ready long enough to count as stable. */
  served(readySinceMs: number | undefined, nowMs: number): void {
    if (readySinceMs !== undefined && nowMs - readySinceMs >= STABLE_AFTER_MS) this.reset();
  }

  /** Milliseconds to wait before the next start; 0 or less: start now. */
  remainingMs(nowMs: number): number {
    if (this.failures === 0) return 0;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
    return this.lastFailureMs + delay - nowMs;
  }
}
