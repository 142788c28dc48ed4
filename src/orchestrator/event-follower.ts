import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../errors';
import type { Logger } from '../log';
import type { ContainerRuntime, RuntimeEvent } from '../runtime/containers';

export interface EventFollowerDeps {
  runtime: ContainerRuntime;
  log: Logger;
  /** Compares our replicas with containerd's list; false when containerd did not answer. */
  resync(): Promise<boolean>;
  onEvent(event: RuntimeEvent): void;
  now(): number;
  /** First wait before subscribing again; doubles per failed try up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 5000;
/** A subscription that lasted this long was a working one: the next break starts the backoff anew. */
const STABLE_MS = 10_000;

/**
 * Follows containerd's task events until `signal` aborts, surviving containerd restarts: a broken
 * stream is logged once at warn, retried with backoff (quietly: containerd may be down for a
 * while), and each new subscription is followed by a resync, which catches what happened while
 * nobody listened. Resolves when `signal` aborts.
 */
export async function followEvents(deps: EventFollowerDeps, signal: AbortSignal): Promise<void> {
  const { runtime, log } = deps;
  const baseMs = deps.retryBaseMs ?? RETRY_BASE_MS;
  const maxMs = deps.retryMaxMs ?? RETRY_MAX_MS;
  let interrupted = false;
  let tries = 0;
  while (!signal.aborted) {
    const since = deps.now();
    // The first next() opens the subscription; listing after it leaves no gap between the two.
    const events = runtime.events(signal)[Symbol.asyncIterator]();
    const first = events.next();
    first.catch(() => undefined); // awaited below; this only silences it during the resync
    const answered = await deps.resync();
    if (answered && interrupted) {
      log.info('containerd events resumed');
      interrupted = false;
    }
    let failure: unknown;
    try {
      for (let next = await first; next.done !== true; next = await events.next()) {
        deps.onEvent(next.value);
      }
    } catch (err) {
      failure = err;
    }
    if (aborted(signal)) return;
    if (deps.now() - since >= STABLE_MS) tries = 0;
    const reason = failure === undefined ? 'the stream ended' : messageOf(failure);
    if (!interrupted) {
      log.warn('containerd events interrupted; reconnecting', { err: reason });
      interrupted = true;
    } else {
      log.debug('containerd events still unavailable', { err: reason, tries });
    }
    const waitMs = Math.min(maxMs, baseMs * 2 ** tries);
    tries++;
    await sleep(waitMs, undefined, { signal }).catch(() => undefined);
  }
}

/** Read afresh: the signal aborts during awaits, which type narrowing cannot see. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
