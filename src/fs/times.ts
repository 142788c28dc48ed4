/**
 * A whole-millisecond time as the seconds utimes and futimes take. `ms / 1000` is not exact in
 * binary: about half of all such times would be stored a fraction of a nanosecond short, and
 * read back (floored to the millisecond) one millisecond early. Half a microsecond more stores
 * every one inside its own millisecond.
 */
export function secondsOf(ms: number): number {
  return (ms + 0.0005) / 1000;
}
