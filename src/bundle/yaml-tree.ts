import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { Issue, LocatedIssue, PathSegment, SourcePos } from './issue';
import { textProblem } from './text-checks';
import { toPlain, type Spot } from './yaml-plain';

/** The document as plain values, with a way back from any field path to its place in the text. */
export interface YamlTree {
  value: unknown;
  /** Where the field (or its key) is; a missing field gives its nearest present ancestor. */
  locate: (issue: Issue) => SourcePos;
  /** A scalar's text as written, e.g. `1.10` for what YAML reads as the number 1.1. */
  sourceOf: (path: readonly PathSegment[]) => string | undefined;
}

const TOP_LEVEL = 'a mapping with version, name and image';

/**
 * Parses one YAML document without ever expanding aliases (they are refused), so billion-laughs
 * files cost no more than their size. Syntax problems leave no tree; duplicate keys and the like
 * are reported with the tree (first occurrence kept), so the rest of the file is checked too.
 */
export function readYaml(text: string): { tree?: YamlTree; issues: LocatedIssue[] } {
  const lines = new LineCounter();
  const at = (offset: number): SourcePos => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const early = textProblem(text);
  if (early !== undefined) {
    const before = text.slice(0, early.offset).split('\n');
    const column = (before[before.length - 1]?.length ?? 0) + 1;
    return { issues: [{ line: before.length, column, path: '', message: early.message }] };
  }
  // prettyErrors would build a context snippet per error; on pathological input that can exhaust
  // memory, and we place errors ourselves anyway.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const syntax = [...doc.errors, ...doc.warnings].map((e) => ({
    ...at(e.pos[0]),
    path: '',
    message: `invalid YAML: ${yamlMessage(e)}`,
  }));
  if (syntax.length > 0) return { issues: syntax };
  if (doc.contents === null) {
    return {
      issues: [{ ...at(0), path: '', message: `the file is empty; expected ${TOP_LEVEL}` }],
    };
  }
  const spots = new Map<string, Spot>();
  const issues: LocatedIssue[] = [];
  const value = toPlain(doc.contents, [], { aliases: 0, spots, issues, at });
  const tree: YamlTree = {
    value,
    locate: (issue) => at(offsetOf(spots, issue)),
    sourceOf: (path) => spots.get(JSON.stringify(path))?.source,
  };
  return { tree, issues };
}

/** The parser's words, except where they speak of its own API. */
function yamlMessage(e: YAMLError): string {
  return e.code === 'MULTIPLE_DOCS'
    ? 'a .bun file holds one document; remove the second "---"'
    : e.message;
}

function offsetOf(spots: Map<string, Spot>, issue: Issue): number {
  for (let n = issue.path.length; n >= 0; n--) {
    const spot = spots.get(JSON.stringify(issue.path.slice(0, n)));
    if (spot === undefined) continue;
    return n === issue.path.length && issue.at === 'key' ? (spot.key ?? spot.value) : spot.value;
  }
  return 0;
}
