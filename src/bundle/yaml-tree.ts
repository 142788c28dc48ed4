import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Node,
  type YAMLError,
} from 'yaml';
import { formatPath, type Issue, type PathSegment } from './issue';
import { REPORTED } from './report';
import { textProblem } from './text-checks';

export interface SourcePos {
  line: number;
  column: number;
}

/** A problem already placed in the source. */
export interface LocatedIssue extends SourcePos {
  path: string;
  message: string;
}

/** The document as plain values, with a way back from any field path to its place in the text. */
export interface YamlTree {
  value: unknown;
  /** Where the field (or its key) is; a missing field gives its nearest present ancestor. */
  locate: (issue: Issue) => SourcePos;
  /** A scalar's text as written, e.g. `1.10` for what YAML reads as the number 1.1. */
  sourceOf: (path: readonly PathSegment[]) => string | undefined;
}

/** A .bun is three levels deep; much deeper is an attack or a mistake, and recursion has limits. */
const MAX_DEPTH = 16;

const TOP_LEVEL = 'a mapping with version, name and image';

interface Spot {
  key?: number;
  value: number;
  source?: string;
}

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

interface Walk {
  aliases: number;
  spots: Map<string, Spot>;
  issues: LocatedIssue[];
  at: (offset: number) => SourcePos;
}

function toPlain(node: Node, path: PathSegment[], walk: Walk, keyOffset?: number): unknown {
  const offset = node.range?.[0] ?? 0;
  const spot: Spot =
    keyOffset === undefined ? { value: offset } : { key: keyOffset, value: offset };
  walk.spots.set(JSON.stringify(path), spot);
  const fail = (message: string): typeof REPORTED => {
    walk.issues.push({ ...walk.at(offset), path: formatPath(path), message });
    return REPORTED;
  };
  if (path.length > MAX_DEPTH) return fail(`nested more than ${MAX_DEPTH} levels deep`);
  if (isAlias(node)) {
    // One message is enough: an alias bomb has hundreds, and each would say the same thing.
    walk.aliases += 1;
    if (walk.aliases > 1) return REPORTED;
    return fail(`aliases (*${node.source}) are not supported; write the value out`);
  }
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) {
      if (node.source !== undefined) spot.source = node.source;
      return v;
    }
    return fail('expected a plain string, number or boolean');
  }
  if (isSeq(node)) return node.items.map((item, i) => childToPlain(item, [...path, i], walk));
  if (isMap(node)) return mapToPlain(node.items, path, walk);
  return fail('unsupported YAML node');
}

function childToPlain(item: unknown, path: PathSegment[], walk: Walk, keyOffset?: number): unknown {
  // A missing value (`key:` alone) parses as a null scalar, so a non-node here is only `? key`.
  return isNode(item) ? toPlain(item, path, walk, keyOffset) : null;
}

function mapToPlain(
  items: readonly { key: unknown; value: unknown }[],
  path: PathSegment[],
  walk: Walk,
) {
  const entries = new Map<string, unknown>();
  const firstAt = new Map<string, number>();
  for (const pair of items) {
    const keyNode = pair.key;
    const keyOffset = isNode(keyNode) ? (keyNode.range?.[0] ?? 0) : 0;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
      walk.issues.push({
        ...walk.at(keyOffset),
        path: formatPath(path),
        message: 'keys must be plain names',
      });
      continue;
    }
    const name = String(key);
    const first = firstAt.get(name);
    if (first !== undefined) {
      const { line, column } = walk.at(first);
      walk.issues.push({
        ...walk.at(keyOffset),
        path: formatPath([...path, name]),
        message: `duplicate key (first defined at line ${line}, column ${column})`,
      });
      continue;
    }
    firstAt.set(name, keyOffset);
    entries.set(name, childToPlain(pair.value, [...path, name], walk, keyOffset));
  }
  // fromEntries defines own properties, so a key named __proto__ stays data, not a prototype.
  return Object.fromEntries(entries);
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}
