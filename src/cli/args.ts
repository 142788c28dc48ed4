import { durationMs } from '../bundle/duration';
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

/**
 * A point in time as Docker's `--since` takes it: a duration ago (`10m`, `1h30m`), an RFC 3339
 * date or time (`2026-11-29T10:00:00Z`, `2026-11-29`), or unix seconds (`1764410400`).
 * Returns unix milliseconds.
 */
export function pointInTime(value: string, name: string, nowMs: number): number {
  const text = value.trim();
  const ago = durationMs(text);
  if (ago !== undefined) return nowMs - ago;
  if (/^\d{9,11}(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parsed = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? Date.parse(text)
    : NaN;
  if (Number.isNaN(parsed)) {
    throw new UsageError(
      `${name} must be a duration like '10m' or '1h30m', a time like '2026-11-29T10:00:00Z', or unix seconds, got '${text}'`,
    );
  }
  return parsed;
}
