import type { Logger } from '../log';

export type HealthState = 'starting' | 'healthy' | 'unhealthy';

/** Where one replica answers its healthcheck. */
export interface HealthTarget {
  host: string;
  port: number;
  path: string;
}

/**
 * Sends one GET and resolves with the status code once the body is drained (or capped). It must
 * reject soon after `signal` aborts: the monitor waits for it so that checks never overlap.
 */
export type HealthRequest = (target: HealthTarget, signal: AbortSignal) => Promise<number>;

/** Schedules `fn` after `ms`; returns a function that cancels it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

export interface HealthMonitorOptions extends HealthTarget {
  intervalMs: number;
  /** Covers connect, headers and body. */
  timeoutMs: number;
  /** Consecutive failures that make a replica unhealthy. */
  retries: number;
  /** Called on transitions only, with the last failure (empty when healthy). */
  onChange(state: HealthState, detail: string): void;
  log: Logger;
  /** Injected for tests; real HTTP and real timers by default. */
  request?: HealthRequest;
  schedule?: Schedule;
}
