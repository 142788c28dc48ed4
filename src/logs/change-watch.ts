import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Wakes a follower when its file may have changed: fs.watch on the file's directory (which also
 * sees the file appear, be replaced or truncated), with polling as the fallback for when watching
 * fails (no directory yet, no inotify) or misses an event.
 */
export class ChangeWatch {
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly pollMs: number,
  ) {
    this.ensureWatcher();
  }

  /** Resolves at the next change (or one seen since the last wait), poll tick or abort. */
  wait(signal: AbortSignal): Promise<void> {
    this.ensureWatcher();
    if (this.changed || signal.aborted) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.wake?.();
  }

  private ensureWatcher(): void {
    if (this.watcher !== undefined) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.notify();
      });
    } catch {
      return; // polling only, until the next wait tries again
    }
    this.watcher.on('error', () => {
      this.watcher?.close();
      this.watcher = undefined;
    });
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }
}
