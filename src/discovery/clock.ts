/** Time for discovery's timers, injected so unit tests move time instead of sleeping. */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    // Unref'd: discovery's timers alone must not keep a process (e.g. the CLI) alive.
    const timer = setTimeout(fn, ms).unref();
    return () => {
      clearTimeout(timer);
    };
  },
};
