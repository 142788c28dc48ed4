import { InvalidInputError } from '../errors';

/** One thing wrong with a .bun file, located in its source (line and column count from 1). */
export interface BundleProblem {
  file: string;
  line: number;
  column: number;
  /** The field, e.g. `ports[0].host_port`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** `file:line:col: path: message`, the shape compilers use, so editors can jump to it. */
export function formatProblem(p: BundleProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** More than this many lines help nobody; a hostile file could otherwise make thousands. */
const MAX_LINES = 50;

/**
 * Every problem of one file at once, in source order; `message` has one line per problem (up to
 * 50, then a count of the rest), while `problems` keeps them all.
 */
export class BundleError extends InvalidInputError {
  readonly problems: readonly BundleProblem[];

  constructor(problems: readonly BundleProblem[]) {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    const lines = sorted.slice(0, MAX_LINES).map(formatProblem);
    if (sorted.length > MAX_LINES) lines.push(`… and ${sorted.length - MAX_LINES} more problems`);
    super(lines.join('\n'));
    this.problems = sorted;
  }
}
