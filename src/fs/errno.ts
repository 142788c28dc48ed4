/** True when `err` is a Node system error with this code (no instanceof: jest runs in its own realm). */
export function hasCode(err: unknown, code: string): boolean {
  return codeOf(err) === code;
}

/**
 * `err` as an Error: itself when it is one from any realm (Node's own errors are not instances
 * of jest's Error), keeping its code; otherwise a new Error saying what it was.
 */
export function asError(err: unknown): Error {
  return isErrorLike(err) ? err : new Error(String(err));
}

/** The system error code of `err`, if it has one. */
export function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function isErrorLike(err: unknown): err is Error {
  return (
    typeof err === 'object' &&
    err !== null &&
    'message' in err &&
    typeof err.message === 'string' &&
    'name' in err
  );
}
