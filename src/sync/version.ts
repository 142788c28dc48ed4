import type { Version } from './records';

export type Order = 'equal' | 'newer' | 'older' | 'concurrent';

/**
 * How version `a` stands to `b`: newer when it has seen every change `b` has and more, older the
 * other way round, concurrent when each has a change the other has not (a conflict). Exact, with
 * no clock involved.
 */
export function compareVersions(a: Version, b: Version): Order {
  let aAhead = false;
  let bAhead = false;
  for (const node of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[node] ?? 0;
    const y = b[node] ?? 0;
    if (x > y) aAhead = true;
    else if (y > x) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'newer';
  if (bAhead) return 'older';
  return 'equal';
}

/** The version that has seen both: the greatest counter per node. */
export function mergeVersions(a: Version, b: Version): Version {
  const out: Record<string, number> = { ...a };
  for (const [node, counter] of Object.entries(b)) out[node] = Math.max(out[node] ?? 0, counter);
  return out;
}

/** `version` after one more change by `node`. */
export function bumpVersion(version: Version, node: string): Version {
  return { ...version, [node]: (version[node] ?? 0) + 1 };
}
