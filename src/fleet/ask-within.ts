import type { Clock } from '../discovery/clock';

/**
 * Runs `ask` with a signal that aborts after `timeoutMs` or when `stop` aborts, and rejects at
 * that moment even if `ask` ignores its signal: a member that does not answer in time must not
 * hold up a round over all members.
 */
export async function askWithin<T>(
  clock: Clock,
  timeoutMs: number,
  stop: AbortSignal,
  ask: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onAbort = (): void => {
    controller.abort();
  };
  stop.addEventListener('abort', onAbort, { once: true });
  const cancelTimer = clock.schedule(onAbort, timeoutMs);
  try {
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => {
        reject(new Error('no answer in time'));
      });
    });
    return await Promise.race([ask(controller.signal), aborted]);
  } finally {
    cancelTimer();
    stop.removeEventListener('abort', onAbort);
  }
}
