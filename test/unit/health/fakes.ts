import type { HealthRequest, HealthTarget, Schedule } from '../../../src/health';

/** Timers that run only when the test advances time. */
export class FakeTimers {
  now = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  readonly schedule: Schedule = (fn, ms) => {
    const id = this.nextId++;
    this.timers.push({ at: this.now + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  };

  get pending(): number {
    return this.timers.length;
  }

  /** Runs every timer due within `ms`, in order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id);
      const next = due[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = next.at;
      next.fn();
      await settle();
    }
    this.now = end;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

interface Pending {
  target: HealthTarget;
  signal: AbortSignal;
  resolve(status: number): void;
  reject(err: Error): void;
}

/** A request function whose calls the test answers one by one; honours abort like the real one. */
export class FakeRequests {
  readonly calls: Pending[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Like a request that takes its time to notice the abort. */
  ignoreAbort = false;

  readonly request: HealthRequest = (target, signal) =>
    new Promise<number>((resolve, reject) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const done = (): void => {
        this.inFlight--;
      };
      signal.addEventListener('abort', () => {
        if (this.ignoreAbort) return;
        done();
        reject(new Error('aborted'));
      });
      this.calls.push({
        target,
        signal,
        resolve: (s) => {
          done();
          resolve(s);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });

  /** Answers the latest call. */
  answer(status: number | Error): void {
    const call = this.calls[this.calls.length - 1];
    if (call === undefined) throw new Error('no request made');
    if (typeof status === 'number') call.resolve(status);
    else call.reject(status);
  }
}

export function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 10.213.0.5:8080'), {
    code: 'ECONNREFUSED',
  });
}
