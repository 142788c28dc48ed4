/** A step into the document: a mapping key or a list index. */
export type PathSegment = string | number;

/**
 * A problem found before it is placed in the source: the field's path, and whether it is about the
 * key itself (an unknown or duplicate field) rather than its value.
 */
export interface Issue {
  path: readonly PathSegment[];
  message: string;
  at: 'key' | 'value';
}

/** Line and column, counting from 1. */
export interface SourcePos {
  line: number;
  column: number;
}

/** A problem already placed in the source. */
export interface LocatedIssue extends SourcePos {
  path: string;
  message: string;
}

/** `ports[0].host_port`: how users see paths in messages. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
