import type { ImageEvent } from '../runtime/images';

/** Progress is sampled: a byte-level event per chunk would flood the stream. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Forwards phase events and layer state changes at once, and byte counts at most every
 * PROGRESS_INTERVAL_MS per layer, so that a fast pull is not slowed by its own progress report.
 */
export class ProgressSampler {
  private readonly pending = new Map<string, ImageEvent>();
  private readonly lastState = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** Events go out in order, one after the other, each waiting for the stream to take it. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly sink: (ev: ImageEvent) => Promise<void>) {}

  push(ev: ImageEvent): void {
    if (ev.type === 'phase' || this.lastState.get(ev.digest) !== ev.state) {
      if (ev.type === 'layer') {
        this.lastState.set(ev.digest, ev.state);
        this.pending.delete(ev.digest);
      }
      this.emit(ev);
      return;
    }
    this.pending.set(ev.digest, ev);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      for (const p of this.pending.values()) this.emit(p);
      this.pending.clear();
    }, PROGRESS_INTERVAL_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    await this.chain;
  }

  private emit(ev: ImageEvent): void {
    this.chain = this.chain.then(() => this.sink(ev));
  }
}
