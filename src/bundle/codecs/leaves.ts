import { posix } from 'node:path';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../duration';
import { imageReferenceProblem } from '../image-reference';
import { leaf, Reject, type Dec } from './decoder';

/** Numbers and booleans where text is wanted are almost always a missing pair of quotes. */
function quoteHint(u: unknown): string | undefined {
  return typeof u === 'number' || typeof u === 'boolean' ? `quote it: "${String(u)}"` : undefined;
}

export const text: Dec<string> = leaf('a string', (u) =>
  typeof u === 'string' ? u : new Reject(quoteHint(u)),
);

export const nonEmptyText: Dec<string> = leaf('a non-empty string', (u) =>
  typeof u === 'string' && u !== '' ? u : new Reject(quoteHint(u)),
);

export function integerIn(min: number, max: number): Dec<number> {
  return leaf(`an integer ${min}-${max}`, (u) =>
    typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? u : new Reject(),
  );
}

export const port = integerIn(1, 65535);

export function oneOf<const L extends string>(...values: L[]): Dec<L> {
  const expected = values.length > 2 ? `one of ${values.join(', ')}` : values.join(' or ');
  return leaf(expected, (u) => values.find((v) => v === u) ?? new Reject());
}

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const dnsLabel: Dec<string> = leaf(
  "a DNS label (lowercase letters, digits and '-', at most 63, not starting or ending with '-')",
  (u) => {
    if (typeof u !== 'string') return new Reject(quoteHint(u));
    if (DNS_LABEL.test(u)) return u;
    if (u.length > 63) return new Reject(`${u.length} characters`);
    const fixed = u.toLowerCase().replace(/[_.]/g, '-');
    return new Reject(DNS_LABEL.test(fixed) ? `try "${fixed}"` : undefined);
  },
);

export const absolutePath: Dec<string> = leaf('an absolute path', (u) =>
  typeof u === 'string' && posix.isAbsolute(u) ? u : new Reject(),
);

export const urlPath: Dec<string> = leaf('a path starting with "/"', (u) =>
  typeof u === 'string' && u.startsWith('/') && !/\s/.test(u) ? u : new Reject(),
);

/** Text like `30s`, decoded to milliseconds. */
export const duration: Dec<number> = leaf('a duration like "30s", "500ms" or "1m30s"', (u) => {
  if (typeof u === 'number') return new Reject(`add a unit, e.g. "${u}s"`);
  if (typeof u !== 'string') return new Reject();
  const parsed = parseDuration(u);
  return 'ms' in parsed ? parsed.ms : new Reject(parsed.reason);
});

/** A duration already in milliseconds, as the normalised App carries it. */
export const milliseconds: Dec<number> = leaf(
  `a whole number of milliseconds 1-${MAX_DURATION_MS} (${formatDuration(MAX_DURATION_MS)})`,
  (u) =>
    typeof u === 'number' && Number.isInteger(u) && u >= 1 && u <= MAX_DURATION_MS
      ? u
      : new Reject(),
);

export const imageReference: Dec<string> = leaf(
  'an image reference like "nginx:alpine" or "registry:5000/team/app:1.2"',
  (u) => {
    if (typeof u !== 'string') return new Reject();
    const problem = imageReferenceProblem(u);
    return problem === undefined ? u : new Reject(problem);
  },
);

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const envName: Dec<string> = leaf('a variable name ([A-Za-z_][A-Za-z0-9_]*)', (u) =>
  typeof u === 'string' && ENV_NAME.test(u) ? u : new Reject(),
);

export const MAX_REPLICAS = 100;
export const replicaCount = integerIn(1, MAX_REPLICAS);
