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

/** Every problem of one file at once, in source order; `message` has one line per problem. */
export class BundleError extends InvalidInputError {
  readonly problems: readonly BundleProblem[];

  constructor(problems: readonly BundleProblem[]) {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    super(sorted.map(formatProblem).join('\n'));
    this.problems = sorted;
  }
}
