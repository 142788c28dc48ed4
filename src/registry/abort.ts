/**
 * Why an aborted call failed: the signal's own reason when it is an Error (an AbortError
 * DOMException by default), else an AbortError carrying the reason as its cause.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('This operation was aborted', { cause: reason }), {
    name: 'AbortError',
  });
}

/**
 * Waits for `work` unless `signal` aborts first. For shared work (a token fetch several
 * requests wait on) that one caller's abort must not cancel for the others.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort);
    });
  });
}
