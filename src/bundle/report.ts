import type * as t from 'io-ts';
import { UNKNOWN_FIELD } from './codecs/struct';
import type { Issue, PathSegment } from './issue';

/**
 * Stands in for a YAML value that was already reported (an alias, say), so that checking the rest
 * of the file goes on without a second message about the same place.
 */
export const REPORTED: unique symbol = Symbol('already reported');

/** io-ts failures as issues: the path from the context (list indices as numbers) and the message. */
export function issuesOf(errors: t.Errors): Issue[] {
  const issues: Issue[] = [];
  for (const error of errors) {
    const last = error.context[error.context.length - 1];
    const aboutKey = last?.type === UNKNOWN_FIELD;
    // An unknown key is news even when its value was already reported.
    if (error.value === REPORTED && !aboutKey) continue;
    const path: PathSegment[] = [];
    error.context.forEach((entry, i) => {
      if (i === 0) return;
      const parent = error.context[i - 1]?.actual;
      path.push(Array.isArray(parent) ? Number(entry.key) : entry.key);
    });
    const message = error.message ?? `expected ${last?.type.name ?? 'something else'}`;
    issues.push({ path, message, at: aboutKey ? 'key' : 'value' });
  }
  return issues;
}
