import type { ClientReadableStream, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { streamOf } from './calls';
import { fromStatus, isServiceError } from './status';
import { UnavailableError } from '../errors';

/** Every peer call has a deadline: a member that vanished mid-call must not hang its caller. */
export const DEFAULT_PEER_TIMEOUT_MS = 10_000;

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Awaits a unary peer call with a deadline and cancellation, turning its failure into a Budgie
 * error. A transport failure keeps grpc-js's detail (a refused connection, a certificate that did
 * not verify), which is what a user needs to tell a dead peer from a foreign one.
 */
export function peerCall<T>(
  target: string,
  options: CallOptions,
  start: (deadline: Date, done: (err: ServiceError | null, value?: T) => void) => ClientUnaryCall,
): Promise<T> {
  const { signal } = options;
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + (options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS));
    const onAbort = (): void => {
      call.cancel();
    };
    const call = start(deadline, (err, value) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(mapPeerError(target, err));
      else if (value === undefined) reject(new UnavailableError(`peer ${target}: empty response`));
      else resolve(value);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A failed peer call as a Budgie error (transport failures keep grpc-js's detail). */
export function mapPeerError(target: string, err: unknown): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  return fromStatus(
    err,
    () => new UnavailableError(`peer ${target}: ${err.details || err.message}`),
  );
}

/**
 * A peer stream that delivers nothing for this long has stalled (a member that froze, a link that
 * dropped without a reset): blob and file streams always have data on the way.
 */
export const PEER_STALL_MS = 30_000;

/**
 * Iterates a server stream with cancellation, mapping its failure. No deadline: a blob or a
 * volume takes as long as the link needs, and the caller can cancel. With `stallMs`, a stream
 * that delivers nothing for that long is cancelled and fails with UnavailableError; the time the
 * caller spends on a message does not count (a slow disk here is not a stalled peer). Streams
 * that may rightly be idle (following logs) go without, and rely on the channel's keepalive.
 */
export async function* peerStream<T>(
  target: string,
  call: ClientReadableStream<T>,
  signal?: AbortSignal,
  stallMs?: number,
): AsyncGenerator<T> {
  const onAbort = (): void => {
    call.cancel();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // An object, not a let: the timer sets it while the loop awaits (the checker cannot see that).
  const state = { stalled: false };
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (stallMs === undefined) return;
    timer = setTimeout(() => {
      state.stalled = true;
      call.cancel();
    }, stallMs);
  };
  const stall = (): UnavailableError =>
    new UnavailableError(
      `peer ${target}: the stream stalled: nothing came for ${(stallMs ?? 0) / 1000} s`,
    );
  try {
    arm();
    // streamOf cancels the call itself when its reader stops early.
    for await (const message of streamOf((err) => mapPeerError(target, err), call)) {
      clearTimeout(timer);
      yield message;
      arm();
    }
    if (state.stalled) throw stall();
  } catch (err) {
    if (state.stalled) throw stall();
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
