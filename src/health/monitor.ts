import { messageOf } from '../errors';
import type { Logger } from '../log';
import { httpRequest, reasonOf, urlOf } from './http-request';
import type { HealthMonitorOptions, HealthRequest, HealthState, Schedule } from './types';

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => {
    clearTimeout(timer);
  };
};

/** Why a check's request was aborted. */
class Timeout extends Error {}
class Stopped extends Error {}

/**
 * HTTP healthchecks of one replica, with Docker's semantics: 'starting' until the first success
 * ('healthy') or `retries` consecutive failures ('unhealthy'); any success makes it healthy again.
 * The first check runs at once, the next `intervalMs` after the previous one ends, so two checks
 * are never in flight. `onChange` fires on transitions only.
 */
export class HealthMonitor {
  private current: HealthState = 'starting';
  private lastFailure = '';
  private failures = 0;
  private running = false;
  /** Bumped by start and stop, so a check aborted by stop() never reports after a restart. */
  private generation = 0;
  private cancelNext: (() => void) | undefined;
  private inFlight: AbortController | undefined;
  private readonly request: HealthRequest;
  private readonly schedule: Schedule;
  private readonly log: Logger;

  constructor(private readonly options: HealthMonitorOptions) {
    this.request = options.request ?? httpRequest;
    this.schedule = options.schedule ?? realSchedule;
    this.log = options.log;
  }

  get state(): HealthState {
    return this.current;
  }

  /** The last failed check's error on one line; empty once a check succeeds. */
  get detail(): string {
    return this.lastFailure;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.check(++this.generation);
  }

  /** Cancels the pending or running check; no `onChange` after this returns. */
  stop(): void {
    this.running = false;
    this.generation++;
    this.cancelNext?.();
    this.cancelNext = undefined;
    this.inFlight?.abort(new Stopped());
  }

  private async check(generation: number): Promise<void> {
    this.cancelNext = undefined;
    const controller = new AbortController();
    this.inFlight = controller;
    const { timeoutMs } = this.options;
    const cancelTimeout = this.schedule(() => {
      controller.abort(new Timeout());
    }, timeoutMs);
    let failure: string | undefined;
    try {
      const status = await this.request(this.options, controller.signal);
      if (status < 200 || status >= 400) failure = `HTTP ${status}`;
    } catch (err) {
      failure =
        controller.signal.reason instanceof Timeout
          ? `timed out after ${formatMs(timeoutMs)}`
          : reasonOf(err);
    } finally {
      cancelTimeout();
      if (this.inFlight === controller) this.inFlight = undefined;
    }
    if (generation !== this.generation) return;
    this.record(failure);
    // onChange may have stopped (or restarted) the monitor.
    if (generation !== this.generation) return;
    this.cancelNext = this.schedule(() => void this.check(generation), this.options.intervalMs);
  }

  private record(failure: string | undefined): void {
    if (failure === undefined) {
      this.failures = 0;
      this.lastFailure = '';
      this.transition('healthy');
      return;
    }
    this.failures++;
    this.lastFailure = `GET ${urlOf(this.options)}: ${failure}`;
    this.log.debug('healthcheck failed', { detail: this.lastFailure, failures: this.failures });
    if (this.failures >= Math.max(1, this.options.retries)) this.transition('unhealthy');
  }

  private transition(next: HealthState): void {
    if (next === this.current) return;
    this.log.debug('health changed', { from: this.current, to: next, detail: this.lastFailure });
    this.current = next;
    try {
      this.options.onChange(next, this.lastFailure);
    } catch (err) {
      this.log.error('health change handler failed', { err: messageOf(err) });
    }
  }
}

/** 2000 → "2s", 1500 → "1.5s", 250 → "250ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
