/** Go-style durations (`500ms`, `5s`, `1m30s`, `1h`), as Docker and Compose write them. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/;
// `ms` before `m`, so that `5ms` is not read as five minutes followed by a stray `s`.
const SEGMENT = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
/** A day: anything longer in a health check or a stop timeout is a mistake. */
export const MAX_DURATION_MS = 86_400_000;

/** Milliseconds of a Go-style duration, unbounded; undefined when the text is not one. */
export function durationMs(text: string): number | undefined {
  if (text.length > 32 || !WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(SEGMENT)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  }
  return Math.round(ms);
}

/** Milliseconds, or a reason the text is not a positive duration of at most a day. */
export function parseDuration(text: string): { ms: number } | { reason: string } {
  const ms = durationMs(text);
  if (ms === undefined) {
    return { reason: 'a number followed by ms, s, m or h, e.g. "30s" or "1m30s"' };
  }
  if (ms <= 0) return { reason: 'must be at least 1ms' };
  if (ms > MAX_DURATION_MS) return { reason: 'must be at most 24h' };
  return { ms };
}

/** The shortest Go-style text for a whole number of milliseconds, for messages. */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 || out === '' ? `${out}${rest}ms` : out;
}
