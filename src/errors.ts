/**
 * Budgie's error family. Every failure a user can meet is one of these, with a message written for
 * that user (one line, naming the field, argument or resource and what was expected). The gRPC
 * boundary maps `kind` to a status code in one place; the CLI prints `message` in one place.
 * Anything that is not a BudgieError is a bug and is reported as an internal error.
 */
export type ErrorKind =
  | 'invalid-input'
  | 'not-found'
  | 'conflict'
  | 'unavailable'
  | 'permission-denied'
  | 'failed-precondition'
  | 'internal';

/**
 * What marks an error as Budgie's. The CLI runs from a bundle, and the agent from the compiled
 * modules beside it (src/main.ts): two copies of this module in one process, whose classes
 * `instanceof` would otherwise tell apart.
 */
const BRAND: unique symbol = Symbol.for('budgie.error');

export abstract class BudgieError extends Error {
  /**
   * An error of this family, from either copy: the brand, and this class (by its name, kept in
   * the bundle) on the error's prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    if (this === BudgieError) return true;
    for (let p: unknown = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      if (p === this.prototype || nameOf(p) === this.name) return true;
    }
    return false;
  }

  readonly [BRAND] = true;
  abstract readonly kind: ErrorKind;
  /** True when the same call may succeed later without any change by the user. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends BudgieError {
  readonly kind = 'invalid-input';
}

export class NotFoundError extends BudgieError {
  readonly kind = 'not-found';
}

export class ConflictError extends BudgieError {
  readonly kind = 'conflict';
}

export class PermissionDeniedError extends BudgieError {
  readonly kind = 'permission-denied';
}

export class FailedPreconditionError extends BudgieError {
  readonly kind = 'failed-precondition';
}

/** A dependency (containerd, a registry, a peer, the agent) did not answer. */
export class UnavailableError extends BudgieError {
  readonly kind = 'unavailable';
  override readonly retryable = true;
}

/** A failure we cannot explain to the user better than "this is a bug"; the cause is logged. */
export class InternalError extends BudgieError {
  readonly kind = 'internal';
}

/** The message of any thrown value, for logs and for wrapping causes. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The name of the class whose prototype `p` is. */
function nameOf(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null || !Object.hasOwn(p, 'constructor')) return undefined;
  const ctor: unknown = Reflect.get(p, 'constructor');
  return typeof ctor === 'function' ? ctor.name : undefined;
}
