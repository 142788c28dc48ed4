import { UsageError } from './failure';

/**
 * Reads a whole-number argument (declared as a string, so that `abc` and `-1` reach us as typed);
 * anything else is a one-line usage error naming the argument and showing an example. Called from
 * handlers rather than yargs' `coerce`, which would rewrap the error and lose its class.
 */
export function wholeNumber(value: string, name: string, example: string): number {
  const text = value.trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(
      `${name} must be a whole number (0 or more), got '${text}' (e.g. '${example}')`,
    );
  }
  return n;
}
