import { BudgieError } from '../errors';

/** Bad command-line usage: wrong flag, missing argument. Exit code 2, with a hint. */
export class UsageError extends BudgieError {
  readonly kind = 'invalid-input';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The one place where a failure becomes output and an exit code: 2 for usage, 1 for everything
 * else. Budgie errors print their message; anything else is a bug and says so (stack with --debug).
 */
export function describeFailure(err: unknown, debug: boolean): { text: string; code: number } {
  if (err instanceof UsageError) {
    const hint = err.hint === undefined ? '' : `\n${err.hint}`;
    return { text: `budgie: ${err.message}${hint}\n`, code: 2 };
  }
  if (err instanceof BudgieError) {
    const stack = debug && err.stack !== undefined ? `\n${err.stack}` : '';
    return { text: `budgie: ${err.message}${stack}\n`, code: 1 };
  }
  const detail = err instanceof Error ? err.message : String(err);
  const stack = debug && err instanceof Error && err.stack !== undefined ? `\n${err.stack}` : '';
  return {
    text: `budgie: unexpected error: ${detail} (this is a bug; run with --debug for details)${stack}\n`,
    code: 1,
  };
}
